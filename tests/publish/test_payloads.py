"""JSON_LISTINGS_FEED messages and documents: Amazon's schemas, splitting at 25,000 messages and 10 MiB."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mip.listings.feeds import (
    FEED_SCHEMA,
    MAX_DOCUMENT_BYTES,
    MAX_MESSAGES,
    MESSAGE_SCHEMA,
    build_documents,
    compact,
    header,
    iter_document_messages,
    message_problems,
    plan_batches,
)
from mip.listings.payloads import ListingContext, bullet_points, delete_message, patch_message, update_message
from mip.listings.sku import SKU_PATTERN, is_mip_sku, reference_of, sku_for
from mip.marketplaces import marketplace_for

SHARED = Path("/work/shared/amazon-models")
IT = ListingContext.for_marketplace(marketplace_for("IT"), handling_days=3)
OFFER = {
    "sku": "MIP-V1000001",
    "product_type": "KITCHEN",
    "language": "it",
    "item_name": "Coltello da cuoco Lumera",
    "brand": "Lumera",
    "ean": "8001234567895",
    "asin": None,
    "list_price": 39.9,
    "price": 24.99,
    "quantity": 7,
    "description": "Coltello da cuoco Lumera. Lama in acciaio inox. Manico ergonomico!  Lavabile in lavastoviglie.",
    "images": [f"https://img.example/v/{i}.jpg" for i in range(1, 12)],
}


def valid(message: dict) -> bool:
    return not message_problems({"messageId": 1, **message})


def test_bundled_schemas_are_amazons_unchanged():
    for path in (FEED_SCHEMA, Path(MESSAGE_SCHEMA)):
        shared = SHARED / path.name
        if shared.exists():  # the contract copy, when this checkout has it
            assert json.loads(path.read_text()) == json.loads(shared.read_text())
    assert "Apache License 2.0" in (FEED_SCHEMA.parent / "README.md").read_text()


def test_full_update_message_in_the_channels_language():
    message = update_message(IT, OFFER)
    assert valid(message)
    attributes = message["attributes"]
    assert message["operationType"] == "UPDATE" and message["productType"] == "KITCHEN"
    assert attributes["item_name"] == [
        {"value": "Coltello da cuoco Lumera", "language_tag": "it_IT", "marketplace_id": "APJ6JRA9NG5V4"}
    ]
    assert attributes["externally_assigned_product_identifier"][0] == {
        "type": "ean",
        "value": "8001234567895",
        "marketplace_id": "APJ6JRA9NG5V4",
    }
    assert [b["value"] for b in attributes["bullet_point"]] == [
        "Lama in acciaio inox.",
        "Manico ergonomico!",
        "Lavabile in lavastoviglie.",
    ]
    assert attributes["main_product_image_locator"][0]["media_location"].endswith("/1.jpg")
    assert "other_product_image_locator_8" in attributes and "other_product_image_locator_9" not in attributes
    assert attributes["list_price"] == [{"currency": "EUR", "value_with_tax": 39.9, "marketplace_id": "APJ6JRA9NG5V4"}]
    assert attributes["purchasable_offer"] == [
        {
            "currency": "EUR",
            "audience": "ALL",
            "our_price": [{"schedule": [{"value_with_tax": 24.99}]}],
            "marketplace_id": "APJ6JRA9NG5V4",
        }
    ]
    assert attributes["fulfillment_availability"] == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 7, "lead_time_to_ship_max_days": 3}
    ]
    assert attributes["condition_type"] == [{"value": "new_new", "marketplace_id": "APJ6JRA9NG5V4"}]
    assert "merchant_suggested_asin" not in attributes


def test_known_asin_fallback_language_and_upc():
    message = update_message(
        IT,
        {
            **OFFER,
            "asin": "B000TEST01",
            "language": "en",
            "ean": "036000291452",
            "images": [],
            "list_price": None,
            "description": None,
        },
    )
    attributes = message["attributes"]
    assert valid(message)
    assert attributes["merchant_suggested_asin"] == [{"value": "B000TEST01", "marketplace_id": "APJ6JRA9NG5V4"}]
    assert attributes["item_name"][0]["language_tag"] == "en_GB"  # English text is tagged English
    assert attributes["externally_assigned_product_identifier"][0]["type"] == "upc"
    assert not {"bullet_point", "product_description", "main_product_image_locator", "list_price"} & set(attributes)


def test_offer_only_patch_and_delete():
    patch = patch_message(IT, "MIP-V1", "KITCHEN", 21.99, 0)
    assert valid(patch)
    assert [(p["op"], p["path"]) for p in patch["patches"]] == [
        ("replace", "/attributes/purchasable_offer"),
        ("replace", "/attributes/fulfillment_availability"),
    ]
    assert patch["patches"][1]["value"][0]["quantity"] == 0
    assert valid(delete_message("MIP-V1")) and delete_message("MIP-V1") == {"sku": "MIP-V1", "operationType": "DELETE"}


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            {
                "sku": "MIP-A",
                "operationType": "PATCH",
                "patches": [{"op": "replace", "path": "/attributes/x", "value": [{}]}],
            },
            "operationType 'PATCH'",
        ),
        ({"sku": "MIP-A", "operationType": "UPDATE", "productType": "HOME", "attributes": {}}, "attributes"),
        ({"sku": "", "operationType": "DELETE"}, "sku"),
        ({"sku": "MIP-A", "operationType": "DELETE", "productType": "HOME"}, "operationType 'DELETE'"),
        ({"sku": "MIP-A", "operationType": "REMOVE"}, "operationType"),
    ],
)
def test_messages_that_fail_amazons_message_schema(message, problem):
    problems = message_problems({"messageId": 1, **message})
    assert problems and any(problem in p for p in problems), problems
    # the reference validator of jsonschema agrees with Amazon's shared schema
    schema = json.loads(MESSAGE_SCHEMA.read_text())
    assert not jsonschema.Draft7Validator(schema).is_valid({"messageId": 1, **message})


def test_an_invalid_message_is_left_out_of_the_document_and_reported():
    messages = [update_message(IT, {**OFFER, "sku": f"MIP-{i}"}) for i in range(3)]
    messages[1] = {**messages[1], "attributes": {}}
    build = build_documents(messages, seller_id="A1MIPTESTSELLER", issue_locale="it_IT")
    (document,) = build.documents
    assert document.skus == ("MIP-0", "MIP-2")
    assert [m["messageId"] for m in iter_document_messages(document.body)] == [1, 2]
    assert [i.sku for i in build.invalid] == ["MIP-1"] and "attributes" in build.invalid[0].problems[0]


def test_document_header_utf8_bytes_and_whole_document_schema():
    build = build_documents(
        [update_message(IT, {**OFFER, "item_name": "Caffè Qualità – €"}), delete_message("MIP-X")],
        seller_id="A1MIPTESTSELLER",
        issue_locale="it_IT",
    )
    (document,) = build.documents
    assert isinstance(document.body, bytes) and "Caffè Qualità – €".encode() in document.body
    parsed = json.loads(document.body.decode("utf-8"))
    assert parsed["header"] == {"sellerId": "A1MIPTESTSELLER", "version": "2.0", "issueLocale": "it_IT"}
    jsonschema.Draft7Validator(json.loads(FEED_SCHEMA.read_text())).validate(parsed)
    assert document.sku_of(2) == "MIP-X" and document.operations == ("UPDATE", "DELETE")
    assert len(document.sha256) == 64


def test_split_at_25000_messages():
    messages = [delete_message(f"MIP-{i:06d}") for i in range(MAX_MESSAGES + 1)]
    build = build_documents(messages, seller_id="A1MIPTESTSELLER", issue_locale="it_IT")
    assert [d.message_count for d in build.documents] == [MAX_MESSAGES, 1]
    last = list(iter_document_messages(build.documents[1].body))
    assert last == [{"messageId": 1, "sku": "MIP-025000", "operationType": "DELETE"}]
    sizes = [(m["sku"], len(compact(m))) for m in messages]
    assert [b.message_count for b in plan_batches(sizes, header("A1MIPTESTSELLER", "it_IT"))] == [MAX_MESSAGES, 1]


def test_split_under_10_mib():
    big = {**OFFER, "description": "Lama in acciaio inox di alta qualità. " * 52}  # ~ 2 KB of description
    messages = [update_message(IT, {**big, "sku": f"MIP-{i:05d}"}) for i in range(3_500)]
    build = build_documents(messages, seller_id="A1MIPTESTSELLER", issue_locale="it_IT")
    sizes = [len(d.body) for d in build.documents]
    assert len(sizes) == 2 and all(size < MAX_DOCUMENT_BYTES for size in sizes)
    assert sum(d.message_count for d in build.documents) == 3_500
    # greedy: the first document could not take the second document's first message
    count = build.documents[0].message_count
    first_of_second = len(b',{"messageId":%d,' % (count + 1)) + len(compact(messages[count])) - 1
    assert sizes[0] + first_of_second >= MAX_DOCUMENT_BYTES
    batches = plan_batches([(m["sku"], len(compact(m))) for m in messages], header("A1MIPTESTSELLER", "it_IT"))
    assert [(b.message_count, b.size) for b in batches] == [(d.message_count, len(d.body)) for d in build.documents]
    assert (batches[1].first_sku, batches[1].last_sku) == (build.documents[1].skus[0], "MIP-03499")


def test_the_byte_limit_is_exact_on_small_limits():
    messages = [delete_message(f"MIP-{i}") for i in range(40)]
    for limit in (200, 333, 1000):
        build = build_documents(messages, seller_id="A1MIPTESTSELLER", issue_locale="it_IT", max_bytes=limit)
        assert all(len(d.body) < limit for d in build.documents)
        for document, following in zip(build.documents, build.documents[1:], strict=False):
            extra = (
                len(b',{"messageId":%d,' % (document.message_count + 1))
                + len(compact(delete_message(following.skus[0])))
                - 1
            )
            assert len(document.body) + extra >= limit
    with pytest.raises(ValueError, match=r"alone .* does not fit"):
        build_documents(messages, seller_id="A1MIPTESTSELLER", issue_locale="it_IT", max_bytes=100)


def test_bullet_points_and_the_sku_scheme():
    assert bullet_points("Titolo. Uno. Due? Tre! Quattro. Cinque. Sei.", "Titolo") == [
        "Uno.",
        "Due?",
        "Tre!",
        "Quattro.",
        "Cinque.",
    ]
    assert bullet_points(None) == [] and bullet_points("") == []
    assert sku_for("V1000001") == "MIP-V1000001" and is_mip_sku("MIP-V1") and not is_mip_sku("CSV-V1")
    assert reference_of("MIP-V1") == "V1"
    with pytest.raises(ValueError, match="not managed by MIP"):
        reference_of("V1")
    assert SKU_PATTERN.match("MIP-" + "a" * 36) and not SKU_PATTERN.match("MIP-" + "a" * 37)
    assert not SKU_PATTERN.match("MIP-with space")
