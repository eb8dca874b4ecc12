"""Matching rules on small hand-made listings and catalogs: each reason, and every case that must not be
planned (MIP's SKUs, FBA, products not published, conflicts, shared titles, another brand)."""

from __future__ import annotations

import pandas as pd

from mip.migration.listings_file import parse
from mip.migration.match import Catalog, match

HEADER = ["seller-sku", "item-name", "brand", "asin1", "product-id-type", "product-id", "fulfillment-channel"]


def ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


KNIFE, PAN, TEA, LAMP_A, LAMP_B, PLAIN = (
    ean13("800100000001"),
    ean13("400100000002"),
    ean13("808700000003"),
    ean13("800100000004"),
    ean13("800100000005"),
    ean13("800100000006"),
)
UPC = "036000291452"  # a UPC-12; the supplier file stores it as EAN-13 0036000291452
OTHER = ean13("590123412345")


def catalog(mip_listings: list[tuple[str, str, str]] = ()) -> Catalog:
    products = pd.DataFrame(
        [
            ("V1000001", KNIFE, "Lumera"),
            ("V1000002", PAN, "Ferrum"),
            ("G1000003", TEA, "Tea Garden"),
            ("V1000004", LAMP_A, "Lumera"),
            ("V1000005", LAMP_B, "Lumera"),
            ("V1000006", "0" + UPC, "Acme"),
            ("V1000007", PLAIN, "Nordhaus"),
            ("V1000008", "8001000000081", "Lumera"),  # a wrong check digit
        ],
        columns=["reference", "ean", "brand"],
    )
    titles = pd.DataFrame(
        [
            ("V1000001", "it", "Coltello da cuoco Lumera Pro 220, colore verde"),
            ("V1000001", "de", "Lumera Kochmesser Pro 220, Farbe Grün"),
            ("V1000002", "it", "Padella antiaderente Ferrum Eco 40, colore rosso"),
            ("G1000003", "it", "Tè verde Tea Garden Plus 880, colore nero"),
            ("V1000004", "it", "Lampada da tavolo Lumera Lite 10, colore blu"),
            ("V1000005", "it", "Lampada da tavolo Lumera Lite 10, colore blu"),
            ("V1000006", "it", "Bottiglia Acme 500"),
            ("V1000007", "it", "Cuscino memory 60 x 40"),  # a title without the brand
            ("V1000008", "it", "Tagliere Lumera Eco 30"),
        ],
        columns=["reference", "language", "name"],
    )
    candidates = {r: None for r in ("V1000001", "V1000002", "V1000004", "V1000005", "V1000006", "V1000007", "V1000008")}
    return Catalog(products, titles, candidates, pd.DataFrame(list(mip_listings), columns=["sku", "reference", "asin"]))


def listings(rows: list[list[str]]) -> pd.DataFrame:
    text = "\n".join("\t".join(r) for r in [HEADER, *rows]) + "\n"
    return parse(text.encode(), "test.txt").frame


def outcome(rows: list[list[str]], **catalog_kwargs) -> dict[str, dict]:
    result = match(listings(rows), catalog(**catalog_kwargs))
    return {r["sku"]: r for r in result.rows.to_dict("records")}


def test_each_reason():
    found = outcome(
        [
            ["OTHER-EAN", "COLTELLO DA CUOCO LUMERA PRO 220 - colore verde", "", "", "4", OTHER, "DEFAULT"],
            ["OLD_v1000002_2019", "Padella del venditore", "", "", "4", ean13("590000000011"), "DEFAULT"],
            ["SAME-GTIN", "whatever", "", "", "4", KNIFE, "DEFAULT"],
            ["UPC", "Bottiglia", "", "", "3", " 0 36000 29145 2 ", "DEFAULT"],
            ["REF-ONLY-V1000002", "Padella", "", "B0CAAAAAAA", "1", "B0CAAAAAAA", "DEFAULT"],
            ["TITLE-ONLY", "Lumera Kochmesser Pro 220, Farbe Grün", "", "B0CBBBBBBB", "1", "B0CBBBBBBB", "DEFAULT"],
            ["ON-ASIN", "Offer", "", "B0CMIPKNIF", "1", "B0CMIPKNIF", "DEFAULT"],
            ["BAD-CATALOG-EAN", "Tagliere Lumera Eco 30", "", "", "4", "8001000000081", "DEFAULT"],
        ],
        mip_listings=[("MIP-V1000001", "V1000001", "B0CMIPKNIF")],
    )
    reasons = {sku: (r["reference"], r["reason"], r["status"]) for sku, r in found.items()}
    assert reasons == {
        "OTHER-EAN": ("V1000001", "other_ean", "planned"),
        "OLD_v1000002_2019": ("V1000002", "other_ean", "planned"),
        "SAME-GTIN": ("V1000001", "same_gtin", "planned"),
        "UPC": ("V1000006", "same_gtin", "planned"),
        "REF-ONLY-V1000002": ("V1000002", "sku_reference", "planned"),
        "TITLE-ONLY": ("V1000001", "brand_title", "planned"),
        "ON-ASIN": ("V1000001", "same_asin", "planned"),
        # an invalid EAN is no GTIN on either side: the title still finds the product
        "BAD-CATALOG-EAN": ("V1000008", "brand_title", "planned"),
    }
    evidence = found["OTHER-EAN"]["evidence"]
    assert evidence["matched_on"] == ["title"]
    assert evidence["gtin"] == {
        "listing": OTHER,
        "listing_form": "EAN-13",
        "catalog": KNIFE,
        "catalog_form": "EAN-13",
        "same_product_number": False,
    }
    assert found["UPC"]["evidence"]["gtin"]["listing_form"] == "UPC-12"
    assert found["UPC"]["evidence"]["gtin"]["same_product_number"] is True


def test_what_must_never_be_planned():
    found = outcome(
        [
            ["MIP-V1000001", "Coltello da cuoco Lumera Pro 220, colore verde", "", "", "4", KNIFE, "DEFAULT"],
            ["FBA", "Coltello da cuoco Lumera Pro 220, colore verde", "", "", "4", OTHER, "AMAZON_EU"],
            ["GROCERY", "Tè verde Tea Garden Plus 880, colore nero", "", "", "4", TEA, "DEFAULT"],
            ["CONFLICT", "Padella antiaderente Ferrum Eco 40, colore rosso", "", "", "4", KNIFE, "DEFAULT"],
            [
                "SHARED-TITLE",
                "Lampada da tavolo Lumera Lite 10, colore blu",
                "",
                "",
                "4",
                ean13("590000000022"),
                "DEFAULT",
            ],
            [
                "ANOTHER-BRAND",
                "Coltello da cuoco Lumera Pro 220, colore verde",
                "Generico",
                "",
                "4",
                ean13("590000000033"),
                "DEFAULT",
            ],
            ["NO-BRAND-WORDS", "Cuscino memory 60 x 40", "", "", "4", ean13("590000000044"), "DEFAULT"],
            [
                "NEAR-MISS",
                "Coltello da cuoco Lumera Pro 230, colore verde",
                "",
                "",
                "4",
                ean13("590000000055"),
                "DEFAULT",
            ],
            ["XV1000001X", "Something", "", "", "4", ean13("590000000066"), "DEFAULT"],
        ]
    )
    assert {sku: (r["status"], r["excluded_because"]) for sku, r in found.items()} == {
        "FBA": ("excluded", "fba"),
        "GROCERY": ("excluded", "not_published"),
        "CONFLICT": ("excluded", "conflict"),
        "SHARED-TITLE": ("excluded", "ambiguous"),
    }
    assert found["CONFLICT"]["evidence"]["candidates"] == {"gtin": "V1000001", "title": "V1000002"}
    assert found["SHARED-TITLE"]["evidence"]["candidates"] == ["V1000004", "V1000005"]
    result = match(listings([["MIP-V1000001", "x", "", "", "4", KNIFE, "DEFAULT"]]), catalog())
    assert result.mip_managed == 1 and result.rows.empty


def test_a_brand_column_decides_for_the_title():
    found = outcome([["SAME-BRAND", "Cuscino memory 60 x 40", "Nordhaus", "", "4", ean13("590000000077"), "DEFAULT"]])
    assert (found["SAME-BRAND"]["reference"], found["SAME-BRAND"]["reason"]) == ("V1000007", "other_ean")
