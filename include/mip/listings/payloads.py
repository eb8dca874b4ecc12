"""JSON_LISTINGS_FEED messages (v2) for one channel: full UPDATE, offer-only PATCH, DELETE.

Messages are built without ``messageId`` (a feed document numbers its messages, see
``mip.listings.feeds``). Attribute shapes follow Amazon's Product Type Definitions: text
attributes carry ``language_tag`` and ``marketplace_id``; prices are VAT-inclusive
(``value_with_tax``) in the marketplace's currency; ``fulfillment_channel_code`` ``DEFAULT`` is
merchant-fulfilled (the supplier ships); the condition is always ``new_new``.

A full UPDATE replaces every attribute of the listing, so it carries the offer too. A PATCH
replaces only ``purchasable_offer`` and ``fulfillment_availability`` (price or stock changed, the
product facts did not). DELETE removes the listing from the channel's marketplace.

Text comes from the catalog in the channel's language (or a fallback language, tagged as such);
bullet points are the sentences of the description after the title, at most five.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mip.marketplaces import Marketplace

# Bump when the shape of UPDATE messages changes: every listing's content hash changes with it, so
# the next run sends a full UPDATE for every SKU.
PAYLOAD_VERSION = "1"
MAX_BULLET_POINTS = 5
MAX_BULLET_CHARS = 500
MAX_DESCRIPTION_CHARS = 2000
MAX_OTHER_IMAGES = 8
# The language tag of text in a fallback language (not the marketplace's own).
LANGUAGE_TAGS = {
    "it": "it_IT",
    "de": "de_DE",
    "fr": "fr_FR",
    "es": "es_ES",
    "en": "en_GB",
    "nl": "nl_NL",
    "pl": "pl_PL",
    "sv": "sv_SE",
    "tr": "tr_TR",
    "ar": "ar_AE",
    "ja": "ja_JP",
    "pt": "pt_BR",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_GTIN_TYPES = {8: "ean", 12: "upc", 13: "ean", 14: "gtin"}


@dataclass(frozen=True)
class ListingContext:
    """What every message of one channel shares."""

    marketplace_id: str
    language_tag: str
    currency: str
    handling_days: int | None = None

    @classmethod
    def for_marketplace(cls, marketplace: Marketplace, handling_days: int | None = None) -> ListingContext:
        return cls(marketplace.marketplace_id, marketplace.language_tag, marketplace.currency, handling_days)

    def tag_for(self, language: str | None) -> str:
        if language is None or self.language_tag.split("_")[0] == language:
            return self.language_tag
        return LANGUAGE_TAGS.get(language, self.language_tag)


def bullet_points(description: str | None, item_name: str | None = None) -> list[str]:
    """Sentences of the description, minus one repeating the title, at most five."""
    if not description:
        return []
    title = (item_name or "").strip().rstrip(".").casefold()
    points = []
    for sentence in _SENTENCE_END.split(description.strip()):
        sentence = sentence.strip()
        if sentence and sentence.rstrip(".").casefold() != title:
            points.append(sentence[:MAX_BULLET_CHARS])
        if len(points) == MAX_BULLET_POINTS:
            break
    return points


def gtin_type(ean: str) -> str:
    return _GTIN_TYPES.get(len(ean), "ean")


def offer_attributes(ctx: ListingContext, price: float, quantity: int) -> dict[str, list[dict[str, Any]]]:
    """The offer: VAT-inclusive price for every buyer, and the quantity the merchant ships."""
    availability: dict[str, Any] = {"fulfillment_channel_code": "DEFAULT", "quantity": int(quantity)}
    if ctx.handling_days is not None:
        availability["lead_time_to_ship_max_days"] = ctx.handling_days
    return {
        "purchasable_offer": [
            {
                "currency": ctx.currency,
                "audience": "ALL",
                "our_price": [{"schedule": [{"value_with_tax": float(price)}]}],
                "marketplace_id": ctx.marketplace_id,
            }
        ],
        "fulfillment_availability": [availability],
    }


def update_message(ctx: ListingContext, offer: Mapping[str, Any]) -> dict[str, Any]:
    """A full UPDATE from one planned offer (the columns of mip.stage_offer + price)."""
    mp = ctx.marketplace_id
    tag = ctx.tag_for(offer.get("language"))

    def text(value: str) -> list[dict[str, str]]:
        return [{"value": value, "language_tag": tag, "marketplace_id": mp}]

    attributes: dict[str, Any] = {
        "item_name": text(offer["item_name"]),
        "brand": text(offer["brand"]),
        "externally_assigned_product_identifier": [
            {"type": gtin_type(offer["ean"]), "value": offer["ean"], "marketplace_id": mp}
        ],
        "condition_type": [{"value": "new_new", "marketplace_id": mp}],
    }
    if offer.get("asin"):
        attributes["merchant_suggested_asin"] = [{"value": offer["asin"], "marketplace_id": mp}]
    points = bullet_points(offer.get("description"), offer["item_name"])
    if points:
        attributes["bullet_point"] = [{"value": p, "language_tag": tag, "marketplace_id": mp} for p in points]
    if offer.get("description"):
        attributes["product_description"] = text(offer["description"][:MAX_DESCRIPTION_CHARS])
    images: Sequence[str] = offer.get("images") or ()
    if images:
        attributes["main_product_image_locator"] = [{"media_location": images[0], "marketplace_id": mp}]
        for index, url in enumerate(images[1 : MAX_OTHER_IMAGES + 1], start=1):
            attributes[f"other_product_image_locator_{index}"] = [{"media_location": url, "marketplace_id": mp}]
    if offer.get("list_price") is not None:
        attributes["list_price"] = [
            {"currency": ctx.currency, "value_with_tax": float(offer["list_price"]), "marketplace_id": mp}
        ]
    attributes.update(offer_attributes(ctx, offer["price"], offer["quantity"]))
    return {
        "sku": offer["sku"],
        "operationType": "UPDATE",
        "productType": offer["product_type"],
        "requirements": "LISTING",
        "attributes": attributes,
    }


def patch_message(ctx: ListingContext, sku: str, product_type: str, price: float, quantity: int) -> dict[str, Any]:
    """Offer-only PATCH: replace the price and the quantity, leave the product facts alone."""
    offer = offer_attributes(ctx, price, quantity)
    return {
        "sku": sku,
        "operationType": "PATCH",
        "productType": product_type,
        "patches": [{"op": "replace", "path": f"/attributes/{name}", "value": value} for name, value in offer.items()],
    }


def delete_message(sku: str) -> dict[str, Any]:
    return {"sku": sku, "operationType": "DELETE"}
