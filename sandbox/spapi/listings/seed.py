"""Seeding listings that exist "because they always did" (CSV-era listings, demo and benchmark data).

``seed_listings(state, seller_id, marketplace_id, listings)`` is the seam for the demo bootstrap
and for ``POST /_sandbox/listings/seed``: each listing is either full Amazon ``attributes`` with a
``product_type``, or the simple fields below, which are turned into Amazon attributes:

    {"sku": "CSV-123", "item_name": "...", "brand": "...", "gtin": "8001234567890", "gtin_type": "ean",
     "price": "19.90", "quantity": 5, "fulfillment": "MFN" | "AFN", "product_type": "HOME",
     "description": "...", "image": "https://...", "asin": "B0...", "created_at": "2023-05-01T10:00:00Z",
     "source": "csv"}

Seeded listings go through the same validation and ASIN assignment as API submissions and are
refused (ValueError naming the SKU and the issues) when Amazon would refuse them. BIL copies are
not scheduled for seeded listings (they are a snapshot, not a change).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.clock import parse_iso
from sandbox.spapi.listings import asins
from sandbox.spapi.listings.store import save
from sandbox.spapi.listings.validation import evaluate
from sandbox.spapi.state import State


def attributes_from_simple(listing: dict[str, Any], marketplace_id: str) -> dict[str, Any]:
    market = marketplaces.BY_ID[marketplace_id]
    mp = {"marketplace_id": marketplace_id}
    lang = {"language_tag": market.language, **mp}
    attributes: dict[str, Any] = {"condition_type": [{"value": listing.get("condition", "new_new"), **mp}]}
    if listing.get("item_name"):
        attributes["item_name"] = [{"value": listing["item_name"], **lang}]
    if listing.get("brand"):
        attributes["brand"] = [{"value": listing["brand"], **lang}]
    if listing.get("gtin"):
        attributes["externally_assigned_product_identifier"] = [
            {"type": listing.get("gtin_type", "ean"), "value": str(listing["gtin"]), **mp}
        ]
    if listing.get("asin"):
        attributes["merchant_suggested_asin"] = [{"value": listing["asin"], **mp}]
    if listing.get("description"):
        attributes["product_description"] = [{"value": listing["description"], **lang}]
        attributes["bullet_point"] = [{"value": listing["description"][:200], **lang}]
    if listing.get("image"):
        attributes["main_product_image_locator"] = [{"media_location": listing["image"], **mp}]
    if listing.get("price") is not None:
        attributes["purchasable_offer"] = [
            {
                "currency": listing.get("currency", market.currency),
                "audience": "ALL",
                "our_price": [{"schedule": [{"value_with_tax": float(Decimal(str(listing["price"])))}]}],
                **mp,
            }
        ]
    fulfillment = str(listing.get("fulfillment", "MFN")).upper()
    if fulfillment in ("AFN", "FBA") or fulfillment.startswith("AMAZON"):
        attributes["fulfillment_availability"] = [
            {"fulfillment_channel_code": "AMAZON_" + market.region.upper(), **_quantity(listing)}
        ]
    else:
        attributes["fulfillment_availability"] = [
            {"fulfillment_channel_code": "DEFAULT", "quantity": int(listing.get("quantity", 0))}
        ]
    return attributes


def _when(value: Any, default: float) -> float:
    """An ISO 8601 string or epoch seconds; the default when absent."""
    if value is None or value == "":
        return default
    return parse_iso(value) if isinstance(value, str) else float(value)


def _quantity(listing: dict[str, Any]) -> dict[str, int]:
    return {"quantity": int(listing["quantity"])} if listing.get("quantity") is not None else {}


def seed_listings(state: State, seller_id: str, marketplace_id: str, listings: Iterable[dict[str, Any]]) -> int:
    """Store listings as existing in a marketplace; returns how many were stored."""
    account = state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (seller_id,))
    if account is None:
        raise ValueError(f"seed_listings: no sandbox account with Seller ID {seller_id!r}")
    region = account["region"]
    if marketplace_id not in marketplaces.BY_ID:
        raise ValueError(f"seed_listings: {marketplace_id!r} is not a marketplace id")
    now = state.clock.now()
    count = 0
    with state.db.tx() as conn:
        for position, listing in enumerate(listings, start=1):
            sku = listing.get("sku")
            if not sku:
                raise ValueError(f"seed_listings: listing #{position} has no 'sku'")
            product_type = listing.get("product_type", "PRODUCT")
            attributes = listing.get("attributes") or attributes_from_simple(listing, marketplace_id)
            asin = listing.get("asin")
            if asin and asins.by_asin(conn, region, asin) is None:
                asins.create(
                    state, conn, region, None, listing.get("brand"), listing.get("item_name"), product_type, asin=asin
                )
            ev = evaluate(state, conn, region, marketplace_id, product_type, "LISTING", attributes, None)
            if not ev.ok:
                problems = "; ".join(f"{i['code']} {i['message']}" for i in ev.issues if i["severity"] == "ERROR")
                raise ValueError(
                    f"seed_listings: listing #{position} (sku {sku!r}) would be refused by Amazon: {problems}"
                )
            resolved = ev.asin
            if ev.new_catalog_item is not None:
                key, brand, name, ptype = ev.new_catalog_item
                known = asins.by_gtin(conn, region, key) if key else None
                resolved = known["asin"] if known else asins.create(state, conn, region, key, brand, name, ptype)
            created_at = _when(listing.get("created_at"), now)
            save(
                conn,
                seller_id,
                marketplace_id,
                sku,
                product_type,
                "LISTING",
                attributes,
                ev,
                resolved,
                listing.get("source", "csv"),
                created_at,
                max(created_at, _when(listing.get("updated_at"), created_at)),
            )
            count += 1
    return count


def register_catalog_item(
    state: State,
    region: str,
    gtin_value: str | None,
    brand: str | None,
    item_name: str | None,
    product_type: str = "PRODUCT",
    gtin_type: str = "ean",
) -> str:
    """Put a product into the region's catalog (e.g. a GTIN owned by another brand); returns its ASIN."""
    from sandbox.spapi.listings import gtin as gtin_rules

    key = None
    if gtin_value:
        why = gtin_rules.problem(gtin_type, gtin_value)
        if why:
            raise ValueError(why)
        key = gtin_rules.catalog_key(gtin_type, gtin_value)
    with state.db.tx() as conn:
        if key:
            known = asins.by_gtin(conn, region, key)
            if known is not None:
                return known["asin"]
        return asins.create(state, conn, region, key, brand, item_name, product_type)
