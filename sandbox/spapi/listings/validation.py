"""Validating a listing submission for one marketplace, as Amazon does, with its issue codes.

| code | severity | when |
|---|---|---|
| 90220 | ERROR | a required attribute is missing ("'item_name' is required but not supplied.") |
| 90000900 | ERROR | an attribute is malformed, a value is not allowed, a wrong currency, an unknown product type |
| 8602 | ERROR | the GTIN in externally_assigned_product_identifier has a wrong length or check digit |
| 8572 | ERROR | the GTIN is registered to an ASIN of another brand (GTIN already used by another product) |
| 8541 | ERROR | merchant_suggested_asin and the GTIN point to different ASINs |
| 8566 | ERROR | nothing identifies an existing ASIN (offer-only listing, unknown merchant_suggested_asin) |
| 99300 | ERROR | the price is out of bounds (<= 0, above the marketplace maximum, outside the seller's min/max) |
| 18448 | WARNING | relevant attributes missing (description, bullet points, main image) |

ERROR issues make the submission INVALID (nothing is stored); WARNING issues are stored with it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.listings import asins, gtin
from sandbox.spapi.listings.attributes import AttributeError_, availability, first, offer, values_for
from sandbox.spapi.listings.product_types import (
    CONDITION_TYPES,
    OFFER_REQUIRED,
    PRODUCT_REQUIRED,
    PRODUCT_TYPES,
    RELEVANT,
    REQUIREMENTS,
)
from sandbox.spapi.state import State

MAX_PRICE_EUR = Decimal("50000")


def issue(
    code: str,
    message: str,
    *,
    severity: str = "ERROR",
    categories: tuple[str, ...] = ("INVALID_ATTRIBUTE",),
    attributes: tuple[str, ...] = (),
    marketplace_id: str | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {"code": code, "message": message, "severity": severity, "categories": list(categories)}
    if attributes:
        found["attributeNames"] = list(attributes)
    if marketplace_id:
        found["marketplaceIds"] = [marketplace_id]
    return found


@dataclass
class Evaluation:
    marketplace_id: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    asin: str | None = None
    new_catalog_item: tuple[str | None, str | None, str | None, str] | None = None  # (gtin key, brand, name, type)
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(i["severity"] == "ERROR" for i in self.issues)


def evaluate(
    state: State,
    conn: sqlite3.Connection,
    region: str,
    marketplace_id: str,
    product_type: str,
    requirements: str,
    attributes: dict[str, Any],
    existing_asin: str | None,
) -> Evaluation:
    result = Evaluation(marketplace_id)
    add = result.issues.append
    market = marketplaces.BY_ID[marketplace_id]

    if product_type not in PRODUCT_TYPES:
        add(
            issue(
                "90000900",
                f"The product type '{product_type}' is not a valid Amazon product type.",
                attributes=("productType",),
                marketplace_id=marketplace_id,
            )
        )
    if requirements not in REQUIREMENTS:
        add(
            issue(
                "90000900",
                f"The requirements '{requirements}' are not one of {', '.join(REQUIREMENTS)}.",
                marketplace_id=marketplace_id,
            )
        )
        return result
    product_facts = requirements in ("LISTING", "LISTING_PRODUCT_ONLY")
    sales_terms = requirements in ("LISTING", "LISTING_OFFER_ONLY")

    for name, values in attributes.items():
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            add(
                issue(
                    "90000900",
                    f"The attribute '{name}' must be an array of objects.",
                    attributes=(name,),
                    marketplace_id=marketplace_id,
                )
            )
    if not result.ok:
        return result

    def missing(name: str) -> None:
        add(
            issue(
                "90220",
                f"'{name}' is required but not supplied.",
                categories=("MISSING_ATTRIBUTE",),
                attributes=(name,),
                marketplace_id=marketplace_id,
            )
        )

    item_name = first(attributes, "item_name", marketplace_id)
    brand = first(attributes, "brand", marketplace_id)
    suggested_asin = first(attributes, "merchant_suggested_asin", marketplace_id)
    exempt = first(attributes, "supplier_declared_has_product_identifier_exemption", marketplace_id) is True
    identifier = next(iter(values_for(attributes, "externally_assigned_product_identifier", marketplace_id)), None)
    if product_facts:
        for name in PRODUCT_REQUIRED:
            if first(attributes, name, marketplace_id) is None:
                missing(name)
        if identifier is None and suggested_asin is None and not exempt and existing_asin is None:
            missing("externally_assigned_product_identifier")
    condition = first(attributes, "condition_type", marketplace_id)
    if sales_terms:
        for name in OFFER_REQUIRED:
            if first(attributes, name, marketplace_id) is None:
                missing(name)
    if condition is not None and condition not in CONDITION_TYPES:
        add(
            issue(
                "90000900",
                f"The value '{condition}' is not allowed for 'condition_type'.",
                attributes=("condition_type",),
                marketplace_id=marketplace_id,
            )
        )

    key = id_type = id_value = None
    if identifier is not None:
        id_type, id_value = str(identifier.get("type", "")), str(identifier.get("value", "")).strip()
        why = gtin.problem(id_type, id_value) if id_value else "a 'value' is required"
        if why:
            add(
                issue(
                    "8602",
                    f"Invalid product identifier for 'externally_assigned_product_identifier': {why}.",
                    attributes=("externally_assigned_product_identifier",),
                    marketplace_id=marketplace_id,
                )
            )
        else:
            key = gtin.catalog_key(id_type, id_value)

    price = currency = None
    try:
        found_offer = offer(attributes, marketplace_id)
        stock = availability(attributes, marketplace_id)
    except AttributeError_ as exc:
        add(issue("90000900", str(exc), attributes=(exc.name,), marketplace_id=marketplace_id))
        found_offer = stock = None
    if found_offer is not None:
        currency = found_offer.currency
        if currency != market.currency:
            add(
                issue(
                    "90000900",
                    f"'purchasable_offer.currency' must be {market.currency} in marketplace {marketplace_id} "
                    f"({market.country}), got {currency!r}.",
                    categories=("INVALID_PRICE",),
                    attributes=("purchasable_offer",),
                    marketplace_id=marketplace_id,
                )
            )
        elif found_offer.price is not None:
            price = found_offer.price
            ceiling = marketplaces.convert(MAX_PRICE_EUR, "EUR", market.currency)
            low = found_offer.minimum if found_offer.minimum is not None else Decimal("0.01")
            high = min(ceiling, found_offer.maximum) if found_offer.maximum is not None else ceiling
            if price <= 0 or price < low or price > high:
                add(
                    issue(
                        "99300",
                        f"The price {price} {currency} of 'purchasable_offer.our_price' is out of bounds: it must be "
                        f"between {low} and {high} {currency}.",
                        categories=("INVALID_PRICE",),
                        attributes=("purchasable_offer",),
                        marketplace_id=marketplace_id,
                    )
                )

    # ASIN: honour merchant_suggested_asin, match the GTIN in the region's catalog, or create one.
    asin = existing_asin
    if result.ok:
        by_key = asins.by_gtin(conn, region, key) if key else None
        if suggested_asin is not None:
            known = asins.by_asin(conn, region, str(suggested_asin))
            if known is None:
                add(
                    issue(
                        "8566",
                        f"The merchant_suggested_asin '{suggested_asin}' does not exist in the Amazon "
                        f"catalog of region {region}.",
                        categories=("MISSING_ATTRIBUTE",),
                        attributes=("merchant_suggested_asin",),
                        marketplace_id=marketplace_id,
                    )
                )
            elif by_key is not None and by_key["asin"] != known["asin"]:
                add(
                    issue(
                        "8541",
                        f"The product identifier {id_value} belongs to ASIN {by_key['asin']}, not to the "
                        f"merchant_suggested_asin {suggested_asin}. The SKU data provided is different from "
                        "what's already in the Amazon catalog.",
                        attributes=("merchant_suggested_asin", "externally_assigned_product_identifier"),
                        marketplace_id=marketplace_id,
                    )
                )
            else:
                asin = known["asin"]
        elif by_key is not None:
            if product_facts and brand is not None and not asins.same_brand(brand, by_key["brand"]):
                add(
                    issue(
                        "8572",
                        f"You are using UPCs, EANs, ISBNs, ASINs, or JAN codes that do not match the "
                        f"products you are trying to list: {id_type} {id_value} is registered to ASIN "
                        f"{by_key['asin']} of brand '{by_key['brand']}', not '{brand}'.",
                        attributes=("externally_assigned_product_identifier", "brand"),
                        marketplace_id=marketplace_id,
                    )
                )
            else:
                asin = by_key["asin"]
        elif asin is None:
            if product_facts and (key is not None or exempt):
                result.new_catalog_item = (key, brand, item_name, product_type)
            elif not product_facts:
                add(
                    issue(
                        "8566",
                        "The SKU does not match any ASIN: an offer-only listing needs a "
                        "merchant_suggested_asin or a product identifier of an existing catalog item.",
                        categories=("MISSING_ATTRIBUTE",),
                        attributes=("merchant_suggested_asin", "externally_assigned_product_identifier"),
                        marketplace_id=marketplace_id,
                    )
                )

    if product_facts and result.ok:
        absent = [name for name in RELEVANT if first(attributes, name, marketplace_id, key=_key(name)) is None]
        if absent:
            add(
                issue(
                    "18448",
                    "Attributes tagged as relevant_attributes are incomplete. Provide values for the "
                    f"following attribute(s): {', '.join(absent)}",
                    severity="WARNING",
                    categories=("MISSING_ATTRIBUTE",),
                    attributes=tuple(absent),
                    marketplace_id=marketplace_id,
                )
            )

    result.asin = asin
    channel = stock.channel if stock else None
    quantity = stock.quantity if stock else None
    has_asin = asin is not None or result.new_catalog_item is not None
    buyable = bool(
        has_asin
        and price is not None
        and price > 0
        and channel is not None
        and (channel.startswith("AMAZON") or (quantity or 0) > 0)
    )
    result.fields = {
        "item_name": item_name,
        "brand": brand,
        "gtin": id_value if key else None,
        "gtin_type": id_type if key else None,
        "condition_type": condition,
        "price": str(price) if price is not None else None,
        "currency": currency if price is not None else None,
        "quantity": quantity,
        "fulfillment_channel": channel,
        "buyable": int(buyable),
        "image": first(attributes, "main_product_image_locator", marketplace_id, key="media_location"),
        "description": first(attributes, "product_description", marketplace_id),
    }
    return result


def _key(name: str) -> str:
    return "media_location" if name.endswith("_locator") else "value"
