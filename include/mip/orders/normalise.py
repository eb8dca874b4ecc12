"""getOrders / getOrderItems payloads and orders-report rows -> ``Order`` and ``Item`` (mip.orders.model).

Both paths give the same rows for the same order (a test holds them to it), except ``raw`` (what
Amazon sent) and ``order_item_id`` (the report has none). The rules that make them agree:

- status: the report writes ``Cancelled``, the API ``Canceled`` (the API's spelling is kept);
  fulfillment channel: the report's ``Amazon``/``Merchant`` are the API's ``AFN``/``MFN``;
- currency and money exist only where Amazon shows prices (not for Pending orders): an order's
  currency is its OrderTotal's, in the report the ``currency`` column of a priced order;
- the report has no order total: it is the sum of its lines' item, shipping and gift-wrap prices
  less their promotion discounts (plus the taxes where prices exclude tax, region ``na``),
  which is how Amazon's OrderTotal is made up;
- promotion discount = item + shipping discounts as a positive amount, 0 on a priced line that
  has none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mip.marketplaces import Marketplace
from mip.orders.model import Item, Order, item_keys

CENT = Decimal("0.01")
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
REPORT_STATUSES = {"Cancelled": "Canceled"}
REPORT_FULFILLMENT = {"Amazon": "AFN", "Merchant": "MFN"}
# columns of Amazon's documented report that the model reads (Order Tracking reports attributes)
REPORT_COLUMNS = (
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "product-name",
    "sku",
    "asin",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "item-promotion-discount",
    "ship-promotion-discount",
)


class ReportFormatError(ValueError):
    """The report document is not the orders report MIP expects; the message names line and column."""


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def _money(money: dict[str, Any] | None) -> tuple[Decimal | None, str | None]:
    if not money:
        return None, None
    return _amount(money.get("Amount")), money.get("CurrencyCode")


def _discount(priced: bool, *amounts: Decimal | None) -> Decimal | None:
    present = [abs(a) for a in amounts if a is not None]
    if present:
        return sum(present, Decimal("0.00"))
    return Decimal("0.00") if priced else None


# --- Orders API v0 ------------------------------------------------------------------------------


def api_order(order: dict[str, Any], channel_id: str, marketplace_id: str) -> Order:
    total, currency = _money(order.get("OrderTotal"))
    return Order(
        amazon_order_id=order["AmazonOrderId"],
        channel_id=channel_id,
        marketplace_id=order.get("MarketplaceId") or marketplace_id,
        order_status=order.get("OrderStatus"),
        fulfillment_channel=order.get("FulfillmentChannel"),
        purchase_date=parse_time(order.get("PurchaseDate")),
        last_update_date=parse_time(order["LastUpdateDate"]),  # type: ignore[arg-type]
        currency=currency,
        order_total=total,
        raw=order,
    )


def api_items(order: Order, items: list[dict[str, Any]]) -> list[Item]:
    """The lines of ``order`` from its getOrderItems pages (``OrderItems``, in Amazon's order)."""
    keys = item_keys([i.get("SellerSKU") for i in items])
    result = []
    for key, item in zip(keys, items, strict=True):
        price, currency = _money(item.get("ItemPrice"))
        result.append(
            Item(
                amazon_order_id=order.amazon_order_id,
                item_key=key,
                order_item_id=item.get("OrderItemId"),
                channel_id=order.channel_id,
                sku=item.get("SellerSKU"),
                asin=item.get("ASIN"),
                title=item.get("Title"),
                quantity=item.get("QuantityOrdered"),
                item_price=price,
                item_tax=_money(item.get("ItemTax"))[0],
                shipping_price=_money(item.get("ShippingPrice"))[0],
                shipping_tax=_money(item.get("ShippingTax"))[0],
                promotion_discount=_discount(
                    price is not None,
                    _money(item.get("PromotionDiscount"))[0],
                    _money(item.get("ShippingDiscount"))[0],
                ),
                currency=currency,
                last_update_date=order.last_update_date,
                raw=item,
            )
        )
    return result


# --- GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL ---------------------------------------


@dataclass
class ReportContent:
    orders: list[Order] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    rows: int = 0
    other_marketplaces: dict[str, int] = field(default_factory=dict)  # sales-channel -> rows skipped


def sales_channel(marketplace: Marketplace) -> str:
    """The report's ``sales-channel`` of a marketplace: ``Amazon.it`` for sellercentral.amazon.it."""
    return "Amazon." + marketplace.seller_central.removeprefix("sellercentral.amazon.")


def _report_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise ReportFormatError("the orders report is empty (no header line)") from None
    missing = [c for c in REPORT_COLUMNS if c not in header]
    if missing:
        raise ReportFormatError(
            f"the orders report lacks the columns {', '.join(missing)} (line 1 has {', '.join(header)}); "
            f"is it a {REPORT_TYPE} report?"
        )
    for line, values in enumerate(reader, start=2):
        if not values or values == [""]:
            continue
        if len(values) != len(header):
            raise ReportFormatError(
                f"orders report line {line}: {len(values)} columns where the header has {len(header)} "
                f"(a truncated or corrupted document; request the report again): {chr(9).join(values)[:200]!r}"
            )
        yield line, dict(zip(header, values, strict=True))


def report_content(text: str, channel_id: str, marketplace: Marketplace) -> ReportContent:
    """Orders and items of the channel's marketplace in an orders report (one row per order line)."""
    wanted = sales_channel(marketplace).lower()
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    content = ReportContent()
    for line, row in _report_rows(text):
        content.rows += 1
        channel = row["sales-channel"]
        if channel.lower() != wanted:
            content.other_marketplaces[channel] = content.other_marketplaces.get(channel, 0) + 1
            continue
        grouped.setdefault(row["amazon-order-id"], []).append((line, row))
    for order_id, rows in grouped.items():
        try:
            order, items = _report_order(order_id, rows, channel_id, marketplace)
        except (ValueError, KeyError) as exc:
            raise ReportFormatError(f"orders report line {rows[0][0]} (order {order_id}): {exc}") from None
        content.orders.append(order)
        content.items.extend(items)
    return content


def _report_order(
    order_id: str, rows: list[tuple[int, dict[str, str]]], channel_id: str, marketplace: Marketplace
) -> tuple[Order, list[Item]]:
    first = rows[0][1]
    last_update = parse_time(first["last-updated-date"])
    if last_update is None:
        raise ValueError("last-updated-date is empty")
    status = first["order-status"]
    order_raw = {"source": "report", "rows": [row for _, row in rows]}
    keys = item_keys([row["sku"] or None for _, row in rows])
    items: list[Item] = []
    total = Decimal("0.00")
    priced_any = False
    tax_exclusive = marketplace.region == "na"
    for key, (_, row) in zip(keys, rows, strict=True):
        price = _amount(row["item-price"])
        priced = price is not None
        priced_any = priced_any or priced
        shipping, gift = _amount(row["shipping-price"]), _amount(row["gift-wrap-price"])
        item_tax, shipping_tax = _amount(row["item-tax"]), _amount(row["shipping-tax"])
        discount = _discount(priced, _amount(row["item-promotion-discount"]), _amount(row["ship-promotion-discount"]))
        if priced:
            total += price + (shipping or 0) + (gift or 0) - (discount or 0)  # type: ignore[operator]
            if tax_exclusive:
                total += (item_tax or 0) + (shipping_tax or 0)
        items.append(
            Item(
                amazon_order_id=order_id,
                item_key=key,
                order_item_id=None,
                channel_id=channel_id,
                sku=row["sku"] or None,
                asin=row["asin"] or None,
                title=row["product-name"] or None,
                quantity=int(row["quantity"]) if row["quantity"] else None,
                item_price=price,
                item_tax=item_tax,
                shipping_price=shipping,
                shipping_tax=shipping_tax,
                promotion_discount=discount,
                currency=(row["currency"] or None) if priced else None,
                last_update_date=last_update,
                raw=row,
            )
        )
    order = Order(
        amazon_order_id=order_id,
        channel_id=channel_id,
        marketplace_id=marketplace.marketplace_id,
        order_status=REPORT_STATUSES.get(status, status) or None,
        fulfillment_channel=REPORT_FULFILLMENT.get(first["fulfillment-channel"], first["fulfillment-channel"] or None),
        purchase_date=parse_time(first["purchase-date"]),
        last_update_date=last_update,
        currency=(first["currency"] or None) if priced_any else None,
        order_total=total.quantize(CENT) if priced_any else None,
        raw=order_raw,
    )
    return order, items


def rows_of(records: Iterable[Order | Item]) -> list[tuple]:
    return [r.row() for r in records]
