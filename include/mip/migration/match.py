"""Matching CSV-era listings to the catalog products MIP publishes (set-based, pandas).

Four signals point a listing to a catalog product; each is computed for every listing at once:

- ``gtin``: its product id is a valid GTIN equal (as 14 digits) to a catalog product's EAN;
- ``asin``: its ASIN is the ASIN of a catalog product, known from a MIP listing (``mip.listings`` or a
  ``MIP-`` SKU in the same report) or from another listing that carries the product's GTIN;
- ``sku``: a supplier reference (at least ``MIN_REFERENCE_LENGTH`` characters) appears in the SKU as
  whole tokens (``X-V1000004-IT``);
- ``title``: the normalised title equals a catalog product's name in any language, and the brand is
  the same (the listing's brand column when the file has one, else the brand's words in the title).

A value shared by several catalog products (an EAN, an ASIN, a title) points nowhere: it is ambiguous.
Per listing (MIP's own SKUs aside: never matched, never planned):

- no signal: not a duplicate, nothing recorded;
- signals pointing to different products: ``excluded`` (``conflict``), a human decides;
- one product: the reason is ``same_gtin`` (GTIN signal), else ``same_asin``, else ``other_ean`` when the
  listing carries a valid GTIN that is not the product's (the same product under two EANs: found by
  SKU reference or brand + title), else ``sku_reference`` or ``brand_title``.

A matched listing is ``planned`` for deletion only when the product is one the channel publishes
(``candidates``) and the listing is merchant-fulfilled (``MFN``); otherwise it is ``excluded`` with
the cause (``not_published``, ``fba``, ``unknown_fulfillment``), so the plan explains every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mip.listings.sku import is_mip_sku, reference_of
from mip.migration import normalise

if TYPE_CHECKING:
    import pandas as pd

MIN_REFERENCE_LENGTH = 5
REASONS = {
    "other_ean": "the same product under another EAN (found by brand + title or the reference in the SKU)",
    "same_gtin": "the catalog product's GTIN under another SKU (UPC-12/EAN-13 forms count as one)",
    "same_asin": "an offer on the ASIN of a catalog product",
    "sku_reference": "the supplier reference inside the SKU",
    "brand_title": "the same brand and title",
}
EXCLUSIONS = {
    "fba": "fulfilled by Amazon (FBA): never deleted by MIP",
    "not_published": "a catalog product this channel does not publish (selection)",
    "conflict": "the signals point to different catalog products",
    "ambiguous": "the title is shared by several catalog products",
    "unknown_fulfillment": "unknown fulfilment channel: never deleted",
}
SIGNALS = ("gtin", "asin", "sku", "title")


@dataclass
class Catalog:
    """The catalog as matching needs it.

    ``products``: reference, ean, brand (every product in the catalog, published or not: a listing
    matching an unpublished product must not be blamed on another one). ``titles``: reference,
    language, name (one row per name). ``candidates``: references the channel publishes, with their
    title in the channel's language. ``mip_listings``: sku, reference, asin of MIP's own listings.
    """

    products: pd.DataFrame
    titles: pd.DataFrame
    candidates: dict[str, str | None]
    mip_listings: pd.DataFrame


@dataclass
class MatchResult:
    rows: pd.DataFrame  # one row per matched listing (see ROW_COLUMNS)
    mip_managed: int = 0
    unmatched: int = 0
    stats: dict[str, int] = field(default_factory=dict)


ROW_COLUMNS = (
    "sku",
    "line",
    "reference",
    "reason",
    "status",
    "excluded_because",
    "fulfillment",
    "listing_hash",
    "evidence",
)


def _unique_map(pairs: pd.DataFrame, key: str, value: str = "reference") -> dict[str, str]:
    """key -> value for keys that have exactly one distinct value."""
    pairs = pairs.dropna(subset=[key, value]).drop_duplicates([key, value])
    single = pairs.drop_duplicates(key, keep=False)
    return dict(zip(single[key], single[value], strict=True))


def _ambiguous(pairs: pd.DataFrame, wanted: pd.Series, key: str, value: str = "reference") -> dict[str, list[str]]:
    """key -> (up to 5 of) its values, for the keys in ``wanted`` that have several."""
    pairs = pairs[pairs[key].isin(set(wanted.dropna()))].dropna(subset=[key, value]).drop_duplicates([key, value])
    shared = pairs[pairs.duplicated(key, keep=False)].sort_values([key, value])
    found: dict[str, list[str]] = {}
    for k, v in zip(shared[key], shared[value], strict=True):
        values = found.setdefault(k, [])
        if len(values) < 5:
            values.append(v)
    return found


def _sku_reference(sku: str, references: dict[str, str]) -> tuple[str | None, list[str]]:
    found = sorted({references[c] for c in normalise.sku_candidates(sku) if c in references})
    return (found[0], found) if len(found) == 1 else (None, found)


def match(listings: pd.DataFrame, catalog: Catalog) -> MatchResult:
    """Match staged listings (the passing rows of ``mip.migration_listings``) against ``catalog``."""
    import pandas as pd

    products = catalog.products.assign(
        ean_key=normalise.gtin_keys(catalog.products["ean"]),
        brand_key=catalog.products["brand"].map(normalise.normalise_text),
    )
    product_by_ref = products.drop_duplicates("reference").set_index("reference")
    titles = catalog.titles.assign(title_key=catalog.titles["name"].map(normalise.normalise_text))

    work = listings.copy()
    mip_skus = set(catalog.mip_listings["sku"]) if len(catalog.mip_listings) else set()
    work["mip"] = work["sku"].map(lambda s: is_mip_sku(s) or s in mip_skus)
    work["title_key"] = work["item_name"].map(normalise.normalise_text)
    work["brand_key"] = work["brand"].map(normalise.normalise_text)

    gtin_map = _unique_map(products, "ean_key")
    work["ref_gtin"] = work["gtin_key"].map(gtin_map)

    asin_pairs = [catalog.mip_listings[["asin", "reference"]]] if len(catalog.mip_listings) else []
    mine = work[work["mip"] & work["asin"].notna()]
    asin_pairs.append(
        pd.DataFrame(
            {
                "asin": mine["asin"],
                "reference": [reference_of(s) if is_mip_sku(s) else None for s in mine["sku"]],
            }
        )
    )
    by_gtin = work[work["ref_gtin"].notna() & work["asin"].notna()]
    asin_pairs.append(pd.DataFrame({"asin": by_gtin["asin"], "reference": by_gtin["ref_gtin"]}))
    pairs = pd.concat(asin_pairs, ignore_index=True)
    pairs = pairs[pairs["reference"].isin(product_by_ref.index)]
    asin_map = _unique_map(pairs, "asin")
    work["ref_asin"] = work["asin"].map(asin_map)

    title_map = _unique_map(titles, "title_key")
    shared_titles = _ambiguous(titles, work["title_key"], "title_key")
    work["ref_title"] = work["title_key"].map(title_map)
    titled = work["ref_title"].notna()
    if titled.any():
        brands = work.loc[titled, "ref_title"].map(product_by_ref["brand_key"])
        own = work.loc[titled, "brand_key"]
        same_brand = [
            (b == o) if isinstance(o, str) else normalise.brand_in_title(b, t)
            for b, o, t in zip(brands, own, work.loc[titled, "title_key"], strict=True)
        ]
        work.loc[titled, "ref_title"] = work.loc[titled, "ref_title"].where(same_brand, None)

    references = {r.upper(): r for r in product_by_ref.index if len(r) >= MIN_REFERENCE_LENGTH}
    sku_refs = [
        _sku_reference(s, references) if not m else (None, []) for s, m in zip(work["sku"], work["mip"], strict=True)
    ]
    work["ref_sku"] = [r for r, _ in sku_refs]

    # the MIP listing of each product, where one exists (in mip.listings or in the same report)
    live = (
        dict(zip(catalog.mip_listings["reference"], catalog.mip_listings["sku"], strict=True))
        if len(catalog.mip_listings)
        else {}
    )
    live.update({reference_of(s): s for s in work.loc[work["mip"], "sku"] if is_mip_sku(s)})

    signals = work[["ref_gtin", "ref_asin", "ref_sku", "ref_title"]].notna().any(axis=1)
    ambiguous_title = work["title_key"].isin(shared_titles.keys()) & ~signals
    considered = ~work["mip"] & (signals | ambiguous_title)
    chosen = work[considered]
    pointed = set(chosen[["ref_gtin", "ref_asin", "ref_sku", "ref_title"]].stack().dropna())
    facts = product_by_ref.loc[sorted(pointed), ["ean", "brand", "ean_key"]].to_dict("index")
    rows = [_decide(row, facts, catalog.candidates, shared_titles, live) for row in chosen.to_dict("records")]
    frame = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    return MatchResult(
        rows=frame,
        mip_managed=int(work["mip"].sum()),
        unmatched=int((~work["mip"] & ~considered).sum()),
        stats={"listings": len(work), "asin_known": len(asin_map), "ambiguous_titles": int(ambiguous_title.sum())},
    )


def _value(value: Any) -> Any:
    return None if value is None or value != value else value


def _decide(
    row: dict[str, Any],
    products: dict[str, dict[str, Any]],
    candidates: dict[str, str | None],
    shared_titles: dict[str, list[str]],
    live: dict[str, str],
) -> dict[str, Any]:
    refs = {s: _value(row[f"ref_{s}"]) for s in SIGNALS}
    pointed = {r for r in refs.values() if r}
    listing = {
        "sku": row["sku"],
        "line": int(row["line"]),
        "item_name": _value(row["item_name"]),
        "asin": _value(row["asin"]),
        "product_id": _value(row["product_id"]),
        "product_id_type": _value(row["product_id_type"]),
        "brand": _value(row.get("brand")),
        "fulfillment": _value(row["fulfillment"]),
        "status": _value(row.get("status")),
    }
    evidence: dict[str, Any] = {"listing": listing, "matched_on": sorted(s for s, r in refs.items() if r)}
    base = {
        "sku": row["sku"],
        "line": int(row["line"]),
        "fulfillment": _value(row["fulfillment"]),
        "listing_hash": row["listing_hash"],
        "evidence": evidence,
    }
    if not pointed:
        evidence["candidates"] = shared_titles.get(row["title_key"], [])
        return {
            **base,
            "reference": None,
            "reason": "brand_title",
            "status": "excluded",
            "excluded_because": "ambiguous",
        }
    if len(pointed) > 1:
        evidence["candidates"] = {s: r for s, r in refs.items() if r}
        return {
            **base,
            "reference": None,
            "reason": _reason(refs, row),
            "status": "excluded",
            "excluded_because": "conflict",
        }
    reference = pointed.pop()
    product = products[reference]
    evidence["catalog"] = {
        "reference": reference,
        "ean": _value(product["ean"]),
        "brand": _value(product["brand"]),
        "title": candidates.get(reference),
        "published_by_mip": reference in candidates,
        "mip_sku": live.get(reference),
    }
    if _value(row["gtin_key"]):
        evidence["gtin"] = {
            "listing": _value(row["gtin"]),
            "listing_form": normalise.gtin_form(row["gtin"]),
            "catalog": _value(product["ean"]),
            "catalog_form": normalise.gtin_form(product["ean"]),
            "same_product_number": row["gtin_key"] == _value(product["ean_key"]),
        }
    if refs["title"]:
        evidence["title"] = {"listing": row["title_key"], "brand": _value(product["brand"])}
    if refs["sku"]:
        evidence["sku_reference"] = reference
    if refs["asin"]:
        evidence["asin"] = row["asin"]
    reason = _reason(refs, row)
    if reference not in candidates:
        status, because = "excluded", "not_published"
    elif row["fulfillment"] == "AFN":
        status, because = "excluded", "fba"
    elif row["fulfillment"] != "MFN":
        status, because = "excluded", "unknown_fulfillment"
    else:
        status, because = "planned", None
    return {**base, "reference": reference, "reason": reason, "status": status, "excluded_because": because}


def _reason(refs: dict[str, str | None], row: dict[str, Any]) -> str:
    if refs["gtin"]:
        return "same_gtin"
    if refs["asin"]:
        return "same_asin"
    if _value(row["gtin_key"]):
        return "other_ean"
    return "sku_reference" if refs["sku"] else "brand_title"
