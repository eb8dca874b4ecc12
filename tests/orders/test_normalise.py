"""Normalisation rules on Amazon-shaped input: one model from API pages and report rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mip.marketplaces import marketplace_for
from mip.orders.model import item_keys
from mip.orders.normalise import ReportFormatError, api_items, api_order, report_content

IT = marketplace_for("IT")
HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
    "sales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\t"
    "item-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\t"
    "ship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\t"
    "is-business-order\tpurchase-order-number\tprice-designation"
)


def report_row(
    order_id: str,
    status: str,
    sku: str,
    quantity: int,
    price: str,
    shipping: str,
    *,
    channel: str = "Amazon.it",
    discount: str = "",
) -> str:
    values = [
        order_id,
        "",
        "2026-11-20T10:00:00+00:00",
        "2026-11-20T12:00:00+00:00",
        status,
        "Merchant",
        channel,
        "",
        "Std IT Dom",
        f"Product {sku}",
        sku,
        "B0TEST0001",
        "Unshipped",
        str(quantity),
        "EUR",
        price,
        "1.80" if price else "",
        shipping,
        "0.00" if price else "",
        "",
        "",
        discount,
        "",
        "Milano",
        "",
        "20121",
        "IT",
        "",
        "false",
        "",
        "",
    ]
    return "\t".join(values)


def api_pair(order_id: str, status: str, total: str | None, lines: list[tuple[str, int, str | None, str | None]]):
    order = {
        "AmazonOrderId": order_id,
        "PurchaseDate": "2026-11-20T10:00:00Z",
        "LastUpdateDate": "2026-11-20T12:00:00Z",
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "MarketplaceId": IT.marketplace_id,
    }
    if total is not None:
        order["OrderTotal"] = {"CurrencyCode": "EUR", "Amount": total}
    items = []
    for n, (sku, quantity, price, shipping) in enumerate(lines):
        item = {
            "ASIN": "B0TEST0001",
            "SellerSKU": sku,
            "OrderItemId": f"1000{n}",
            "Title": f"Product {sku}",
            "QuantityOrdered": quantity,
        }
        if price is not None:
            item.update(
                {
                    "ItemPrice": {"CurrencyCode": "EUR", "Amount": price},
                    "ItemTax": {"CurrencyCode": "EUR", "Amount": "1.80"},
                    "ShippingPrice": {"CurrencyCode": "EUR", "Amount": shipping},
                    "ShippingTax": {"CurrencyCode": "EUR", "Amount": "0.00"},
                    "PromotionDiscount": {"CurrencyCode": "EUR", "Amount": "0.00"},
                }
            )
        items.append(item)
    return order, items


def model_rows(orders, items):
    def strip(row: tuple, drop: tuple[int, ...]) -> tuple:
        return tuple(v for i, v in enumerate(row) if i not in drop)

    return sorted(strip(o.row(), (9,)) for o in orders), sorted(strip(i.row(), (2, 15)) for i in items)


def test_priced_and_pending_orders_give_the_same_rows_from_both_paths():
    priced, priced_items = api_pair(
        "402-0000001-0000001", "Unshipped", "27.99", [("SKU-A", 2, "20.00", "3.99"), ("SKU-B", 1, "4.00", "0.00")]
    )
    pending, pending_items = api_pair("402-0000002-0000002", "Pending", None, [("SKU-A", 1, None, None)])
    api_orders = [api_order(priced, "it", IT.marketplace_id), api_order(pending, "it", IT.marketplace_id)]
    api_lines = api_items(api_orders[0], priced_items) + api_items(api_orders[1], pending_items)
    text = (
        "\n".join(
            [
                HEADER,
                report_row("402-0000001-0000001", "Unshipped", "SKU-A", 2, "20.00", "3.99"),
                report_row("402-0000001-0000001", "Unshipped", "SKU-B", 1, "4.00", "0.00"),
                report_row("402-0000002-0000002", "Pending", "SKU-A", 1, "", ""),
                report_row("402-0000003-0000003", "Shipped", "SKU-C", 1, "9.00", "0.00", channel="Amazon.fr"),
            ]
        )
        + "\n"
    )
    content = report_content(text, "it", IT)
    assert content.rows == 4 and content.other_marketplaces == {"Amazon.fr": 1}
    assert model_rows(content.orders, content.items) == model_rows(api_orders, api_lines)
    by_id = {o.amazon_order_id: o for o in content.orders}
    assert by_id["402-0000001-0000001"].order_total == Decimal("27.99")
    assert by_id["402-0000002-0000002"].order_total is None and by_id["402-0000002-0000002"].currency is None


def test_report_spelling_is_the_api_spelling():
    text = HEADER + "\n" + report_row("402-0000004-0000004", "Cancelled", "SKU-A", 1, "", "") + "\n"
    (order,) = report_content(text, "it", IT).orders
    assert (order.order_status, order.fulfillment_channel) == ("Canceled", "MFN")


def test_a_repeated_sku_gets_its_own_line_key():
    assert item_keys(["A", "B", "A", None, "A"]) == ["A", "B", "A#2", "line4", "A#3"]


def test_promotion_discounts_count_as_positive_amounts():
    text = (
        HEADER
        + "\n"
        + report_row("402-0000005-0000005", "Shipped", "SKU-A", 1, "10.00", "2.00", discount="-1.50")
        + "\n"
    )
    content = report_content(text, "it", IT)
    assert content.items[0].promotion_discount == Decimal("1.50")
    assert content.orders[0].order_total == Decimal("10.50")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("amazon-order-id\tsku\n", "lacks the columns"),
        (HEADER + "\n402-1\tonly two\n", "line 2: 2 columns where the header has 31"),
    ],
)
def test_a_broken_report_names_the_line(text, message):
    with pytest.raises(ReportFormatError, match=message):
        report_content(text, "it", IT)
