"""Listings behaviour: Amazon's validation issues, ASIN assignment, status, seller and marketplace checks, BIL."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import DE, DEMO, ES, FR, GB, IT, OTHER, RawApi, attributes, ean13, wait_for

ITEMS = f"/listings/2021-08-01/items/{DEMO}"


def put(raw: RawApi, sku: str, attrs: dict, marketplace: str = IT, product_type: str = "KITCHEN", **params):
    status, body, _ = raw.call(
        "PUT",
        f"{ITEMS}/{sku}",
        {"marketplaceIds": marketplace, **params},
        {"productType": product_type, "attributes": attrs},
    )
    assert status == 200, body
    return body


def codes(body: dict) -> list[tuple[str, str, list[str]]]:
    return [(i["code"], i["severity"], i.get("attributeNames", [])) for i in body["issues"]]


def truth(sandbox, sku: str, marketplace: str = IT) -> dict | None:
    rows = sandbox.admin("GET", "listings", params={"seller_id": DEMO, "marketplace_id": marketplace, "sku": sku})
    return rows[0] if rows else None


def test_missing_required_attributes_are_90220_and_nothing_is_stored(raw, private_sandbox):
    body = put(raw, "V-1", attributes(name=None, brand=None, ean=ean13(1)))
    assert body["status"] == "INVALID"
    assert ("90220", "ERROR", ["item_name"]) in codes(body) and ("90220", "ERROR", ["brand"]) in codes(body)
    assert (
        next(i for i in body["issues"] if i["attributeNames"] == ["item_name"])["message"]
        == "'item_name' is required but not supplied."
    )
    assert truth(private_sandbox, "V-1") is None


def test_gtin_checksum_and_gtin_owned_by_another_brand(raw, private_sandbox):
    good = ean13(2)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert codes(put(raw, "G-1", attributes(ean=bad))) == [
        ("8602", "ERROR", ["externally_assigned_product_identifier"])
    ]
    asin = private_sandbox.admin("POST", "catalog", json={"gtin": ean13(3), "brand": "Bosch", "item_name": "Drill"})[
        "asin"
    ]
    refused = put(raw, "G-2", attributes(ean=ean13(3), brand="Acme"))
    assert (
        refused["status"] == "INVALID"
        and refused["issues"][0]["code"] == "8572"
        and asin in refused["issues"][0]["message"]
    )
    matched = put(raw, "G-3", attributes(ean=ean13(3), brand="BOSCH "), includedData="identifiers,issues")
    assert matched["status"] == "ACCEPTED" and matched["identifiers"] == [{"marketplaceId": IT, "asin": asin}]


def test_new_gtins_get_new_asins_and_suggested_asins_are_honoured(raw, private_sandbox):
    first = put(raw, "A-1", attributes(ean=ean13(4)), includedData="identifiers")["identifiers"][0]["asin"]
    second = put(raw, "A-2", attributes(ean=ean13(5)), includedData="identifiers")["identifiers"][0]["asin"]
    again = put(raw, "A-3", attributes(ean=ean13(4)), includedData="identifiers")["identifiers"][0]["asin"]
    assert first != second and again == first
    offer_only = attributes(
        ean=None, name=None, brand=None, extra={"merchant_suggested_asin": [{"value": second, "marketplace_id": IT}]}
    )
    _status, body, _ = raw.call(
        "PUT",
        f"{ITEMS}/A-4",
        {"marketplaceIds": IT, "includedData": "identifiers"},
        {"productType": "KITCHEN", "requirements": "LISTING_OFFER_ONLY", "attributes": offer_only},
    )
    assert body["status"] == "ACCEPTED" and body["identifiers"][0]["asin"] == second
    unknown = attributes(ean=None, extra={"merchant_suggested_asin": [{"value": "B0NOTEXIST", "marketplace_id": IT}]})
    assert put(raw, "A-5", unknown)["issues"][0]["code"] == "8566"
    _status, body, _ = raw.call(
        "PUT",
        f"{ITEMS}/A-6",
        {"marketplaceIds": IT},
        {
            "productType": "KITCHEN",
            "requirements": "LISTING_OFFER_ONLY",
            "attributes": attributes(ean=ean13(6), name=None, brand=None),
        },
    )
    assert body["issues"][0]["code"] == "8566"  # an offer needs an existing product


@pytest.mark.parametrize(
    ("price", "extra", "ok"),
    [
        (0, {}, False),
        (-3, {}, False),
        (60000, {}, False),
        (49999, {}, True),
        (10, {"minimum_seller_allowed_price": [{"schedule": [{"value_with_tax": 12}]}]}, False),
        (15, {"maximum_seller_allowed_price": [{"schedule": [{"value_with_tax": 12}]}]}, False),
    ],
)
def test_price_out_of_bounds_is_99300(raw, price, extra, ok):
    attrs = attributes(ean=ean13(7), price=price)
    attrs["purchasable_offer"][0].update(extra)
    body = put(raw, f"P-{price}-{len(extra)}", attrs, mode="VALIDATION_PREVIEW")
    assert body["status"] == ("VALID" if ok else "INVALID")
    if not ok:
        assert codes(body) == [("99300", "ERROR", ["purchasable_offer"])]


def test_wrong_currency_unknown_product_type_and_warnings(raw):
    body = put(raw, "W-1", attributes(ean=ean13(8), currency="GBP"), mode="VALIDATION_PREVIEW")
    assert body["issues"][0]["code"] == "90000900" and "must be EUR" in body["issues"][0]["message"]
    body = put(raw, "W-2", attributes(ean=ean13(8)), product_type="NOT_A_TYPE", mode="VALIDATION_PREVIEW")
    assert body["issues"][0]["code"] == "90000900" and "NOT_A_TYPE" in body["issues"][0]["message"]
    sparse = attributes(ean=ean13(8))
    del sparse["bullet_point"]
    body = put(raw, "W-3", sparse)
    assert body["status"] == "ACCEPTED" and codes(body) == [("18448", "WARNING", ["bullet_point"])]


def test_status_buyable_only_with_offer_and_stock(raw, private_sandbox):
    put(raw, "S-1", attributes(ean=ean13(9), quantity=0))
    put(raw, "S-2", attributes(ean=ean13(10), price=None))
    put(raw, "S-3", attributes(ean=ean13(11)))
    afn = attributes(ean=ean13(12), quantity=None)
    afn["fulfillment_availability"] = [{"fulfillment_channel_code": "AMAZON_EU"}]
    put(raw, "S-4", afn)
    states = {sku: truth(private_sandbox, sku)["status"] for sku in ("S-1", "S-2", "S-3", "S-4")}
    assert states == {
        "S-1": ["DISCOVERABLE"],
        "S-2": ["DISCOVERABLE"],
        "S-3": ["BUYABLE", "DISCOVERABLE"],
        "S-4": ["BUYABLE", "DISCOVERABLE"],
    }
    assert truth(private_sandbox, "S-4")["fulfillment_channel"] == "AFN"
    _status, body, _ = raw.call(
        "GET",
        ITEMS,
        {"marketplaceIds": IT, "withStatus": "BUYABLE", "identifiersType": "SKU", "identifiers": "S-1,S-2,S-3,S-4"},
    )
    assert sorted(i["sku"] for i in body["items"]) == ["S-3", "S-4"]


def test_wrong_seller_id_is_403_and_foreign_marketplace_is_400(raw):
    status, body, _ = raw.call("GET", f"/listings/2021-08-01/items/{OTHER}/S-3", {"marketplaceIds": IT})
    assert status == 403 and body["errors"][0]["code"] == "Unauthorized"
    assert OTHER in body["errors"][0]["details"] and DEMO in body["errors"][0]["details"]
    status, body, _ = raw.call("GET", f"{ITEMS}/S-3", {"marketplaceIds": GB})
    assert status == 400 and body["errors"][0]["code"] == "InvalidInput"
    assert body["errors"][0]["message"] == f"{GB} (GB) is not a marketplace this seller participates in."


def test_patch_on_a_missing_listing_is_invalid_and_patch_merges(raw, private_sandbox):
    _status, body, _ = raw.call(
        "PATCH",
        f"{ITEMS}/NEVER",
        {"marketplaceIds": IT},
        {
            "productType": "KITCHEN",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
                }
            ],
        },
    )
    assert body["status"] == "INVALID" and {i["code"] for i in body["issues"]} == {"90220"}
    _status, body, _ = raw.call(
        "PATCH",
        f"{ITEMS}/S-1",
        {"marketplaceIds": IT},
        {
            "productType": "KITCHEN",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
                }
            ],
        },
    )
    assert body["status"] == "ACCEPTED"
    assert truth(private_sandbox, "S-1")["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert truth(private_sandbox, "S-1")["quantity"] == 3


def test_build_international_listings_copies_converts_and_removes(raw, private_sandbox):
    sandbox = private_sandbox
    put(raw, "BIL-1", attributes(ean=ean13(20), price=30.0))
    sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "GB", "participating": True})
    sandbox.admin("POST", f"accounts/{DEMO}/bil", json={"source": "IT", "target": "GB", "enabled": True})
    put(raw, "BIL-2", attributes(ean=ean13(21), price=30.0))

    def copied():
        sandbox.tick()
        return truth(sandbox, "BIL-2", GB) and truth(sandbox, "BIL-2", FR) and truth(sandbox, "BIL-2", ES)

    wait_for(copied, timeout=20, what="the BIL copies")
    fr, gb = truth(sandbox, "BIL-2", FR), truth(sandbox, "BIL-2", GB)
    assert (fr["price"], fr["currency"], fr["source"], fr["status"]) == (
        "30.0",
        "EUR",
        "bil",
        ["BUYABLE", "DISCOVERABLE"],
    )
    assert (gb["price"], gb["currency"]) == ("25.5", "GBP")
    assert gb["asin"] == truth(sandbox, "BIL-2")["asin"]
    assert truth(sandbox, "BIL-2", DE) is None  # DE has no link

    sandbox.admin("POST", f"accounts/{DEMO}/bil", json={"source": "IT", "target": "ES", "enabled": False})
    put(raw, "BIL-3", attributes(ean=ean13(22)))
    raw.call("DELETE", f"{ITEMS}/BIL-2", {"marketplaceIds": IT})
    wait_for(
        lambda: (sandbox.tick(), truth(sandbox, "BIL-3", FR) and truth(sandbox, "BIL-2", FR) is None)[1],
        timeout=20,
        what="the BIL copy of BIL-3 and the removal of BIL-2",
    )
    assert truth(sandbox, "BIL-3", ES) is None  # the link is off: no new copies
    assert truth(sandbox, "BIL-2", ES) is not None  # existing copies stay until BIL removes them
    assert truth(sandbox, "BIL-2", GB) is None
