"""One order model, whichever way Amazon delivered the order (getOrders pages or the orders report).

An order's lines are keyed by ``item_key``: the SKU, with ``#2``, ``#3``... for a SKU repeated in
the same order (in Amazon's line order). The report has no OrderItemId, so this is the only key both
paths can compute; ``order_item_id`` is kept when the API path knows it. Money is ``Decimal`` with
two places; a value Amazon did not send (Pending orders carry no prices) is ``None``, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

ORDER_COLUMNS = (
    "amazon_order_id",
    "channel_id",
    "marketplace_id",
    "order_status",
    "fulfillment_channel",
    "purchase_date",
    "last_update_date",
    "currency",
    "order_total",
    "raw",
)
ITEM_COLUMNS = (
    "amazon_order_id",
    "item_key",
    "order_item_id",
    "channel_id",
    "sku",
    "asin",
    "title",
    "quantity",
    "item_price",
    "item_tax",
    "shipping_price",
    "shipping_tax",
    "promotion_discount",
    "currency",
    "last_update_date",
    "raw",
)
# Amazon's OrderStatus values (Orders API v0 model).
KNOWN_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
)
# Statuses of a paid order: Amazon always sends its OrderTotal.
PAID_STATUSES = ("Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed")


@dataclass(slots=True)
class Order:
    amazon_order_id: str
    channel_id: str
    marketplace_id: str
    order_status: str | None
    fulfillment_channel: str | None
    purchase_date: datetime | None
    last_update_date: datetime
    currency: str | None
    order_total: Decimal | None
    raw: dict[str, Any]

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in ORDER_COLUMNS)


@dataclass(slots=True)
class Item:
    amazon_order_id: str
    item_key: str
    order_item_id: str | None
    channel_id: str
    sku: str | None
    asin: str | None
    title: str | None
    quantity: int | None
    item_price: Decimal | None
    item_tax: Decimal | None
    shipping_price: Decimal | None
    shipping_tax: Decimal | None
    promotion_discount: Decimal | None
    currency: str | None
    last_update_date: datetime
    raw: dict[str, Any]

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in ITEM_COLUMNS)


def item_keys(skus: list[str | None]) -> list[str]:
    """``item_key`` of each line: the SKU, ``SKU#n`` for its n-th occurrence (n >= 2) in the order."""
    seen: dict[str, int] = {}
    keys = []
    for position, sku in enumerate(skus):
        base = sku if sku else f"line{position + 1}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return keys
