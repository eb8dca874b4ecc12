"""Listing attributes in Amazon's JSON format: reading marketplace values and applying JSON patches.

Attributes are ``{name: [ {value..., "marketplace_id"?, "language_tag"?}, ... ]}``. A value without
``marketplace_id`` applies to every marketplace of the submission.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

SELECTORS = ("marketplace_id", "language_tag")


class AttributeError_(ValueError):
    """A malformed attribute; ``name`` is the attribute, the message says what is wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def values_for(attributes: dict[str, Any], name: str, marketplace_id: str) -> list[dict[str, Any]]:
    raw = attributes.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise AttributeError_(name, f"The attribute '{name}' must be an array of objects.")
    return [v for v in raw if v.get("marketplace_id") in (None, marketplace_id)]


def first(attributes: dict[str, Any], name: str, marketplace_id: str, key: str = "value") -> Any:
    for value in values_for(attributes, name, marketplace_id):
        if key in value and value[key] not in (None, ""):
            return value[key]
    return None


def to_decimal(name: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise AttributeError_(name, f"The value {raw!r} of '{name}' is not a number.")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise AttributeError_(name, f"The value {raw!r} of '{name}' is not a number.") from None
    if not value.is_finite():
        raise AttributeError_(name, f"The value {raw!r} of '{name}' is not a number.")
    return value


@dataclass
class Offer:
    currency: str | None
    price: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None


def offer(attributes: dict[str, Any], marketplace_id: str) -> Offer | None:
    """The B2C (audience ALL) purchasable offer of a marketplace, or None when there is none."""
    for entry in values_for(attributes, "purchasable_offer", marketplace_id):
        if entry.get("audience", "ALL") != "ALL":
            continue
        return Offer(
            currency=entry.get("currency"),
            price=_schedule_price(entry, "our_price"),
            minimum=_schedule_price(entry, "minimum_seller_allowed_price"),
            maximum=_schedule_price(entry, "maximum_seller_allowed_price"),
        )
    return None


def _schedule_price(entry: dict[str, Any], key: str) -> Decimal | None:
    raw = entry.get(key)
    if raw is None:
        return None
    name = f"purchasable_offer.{key}"
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], dict):
        raise AttributeError_("purchasable_offer", f"'{name}' must be an array of schedules.")
    schedule = raw[0].get("schedule")
    if not isinstance(schedule, list) or not schedule or not isinstance(schedule[0], dict):
        raise AttributeError_("purchasable_offer", f"'{name}[0].schedule' must be a non-empty array.")
    value = schedule[0].get("value_with_tax", schedule[0].get("value"))
    try:
        return to_decimal(name, value)
    except AttributeError_ as exc:
        raise AttributeError_("purchasable_offer", str(exc)) from None


@dataclass
class Availability:
    channel: str  # DEFAULT (merchant fulfilled) or AMAZON_* (FBA)
    quantity: int | None


def availability(attributes: dict[str, Any], marketplace_id: str) -> Availability | None:
    raw = attributes.get("fulfillment_availability")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise AttributeError_(
            "fulfillment_availability", "The attribute 'fulfillment_availability' must be an array of objects."
        )
    for entry in raw:
        channel = entry.get("fulfillment_channel_code")
        if not isinstance(channel, str) or not channel:
            raise AttributeError_(
                "fulfillment_availability", "'fulfillment_availability.fulfillment_channel_code' is required."
            )
        quantity = entry.get("quantity")
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0):
            raise AttributeError_(
                "fulfillment_availability",
                f"'fulfillment_availability.quantity' must be an integer >= 0, got {quantity!r}.",
            )
        return Availability(channel, quantity)
    return None


def apply_patches(attributes: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply Listings JSON patches (add, replace, merge, delete) to top-level attributes.

    Returns a new dict and never modifies ``attributes`` or the patch values (attribute lists are
    replaced, merged values copied). Raises AttributeError_ for a path that is not
    ``/attributes/<name>`` (Amazon patches only top-level attributes).
    """
    result = dict(attributes)
    for patch in patches:
        op, path = patch.get("op"), patch.get("path", "")
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "" or parts[1] != "attributes" or not parts[2]:
            raise AttributeError_(
                path or "path", f"The patch path '{path}' is not a top-level attribute path ('/attributes/<name>')."
            )
        name = parts[2]
        value = patch.get("value")
        if op in ("add", "replace", "merge") and not isinstance(value, list):
            raise AttributeError_(name, f"The '{op}' patch of '{name}' needs a 'value' array.")
        if op in ("add", "replace"):
            result[name] = list(value)
        elif op == "merge":
            current = [dict(old) for old in result.get(name, [])]
            for new in value:
                key = tuple(new.get(s) for s in SELECTORS)
                match = next((old for old in current if tuple(old.get(s) for s in SELECTORS) == key), None)
                if match is None:
                    current.append(dict(new))
                else:
                    match.update(new)
            result[name] = current
        elif op == "delete":
            if not value:
                result.pop(name, None)
                continue
            keys = {tuple(v.get(s) for s in SELECTORS) for v in value}
            kept = [old for old in result.get(name, []) if tuple(old.get(s) for s in SELECTORS) not in keys]
            if kept:
                result[name] = kept
            else:
                result.pop(name, None)
        else:
            raise AttributeError_(name, f"Unsupported patch operation {op!r}.")
    return result


def for_marketplace(attributes: dict[str, Any], source_mp: str, target_mp: str) -> dict[str, Any]:
    """A copy of the attributes with the source marketplace's values re-addressed to the target."""
    result: dict[str, Any] = {}
    for name, values in attributes.items():
        if not isinstance(values, list):
            continue
        copied = []
        for value in values:
            if not isinstance(value, dict) or value.get("marketplace_id") not in (None, source_mp):
                continue
            value = copy.deepcopy(value)
            if "marketplace_id" in value:
                value["marketplace_id"] = target_mp
            copied.append(value)
        if copied:
            result[name] = copied
    return result
