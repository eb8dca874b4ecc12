"""Orders and order items in the Orders API v0 shape (and the report's column values)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.clock import iso


def money(currency: str, amount: Decimal | str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(Decimal(amount).quantize(Decimal("0.01")))}


def shipped_quantities(order: sqlite3.Row, items: list[sqlite3.Row]) -> list[int]:
    if order["status"] == "Shipped":
        return [i["quantity"] for i in items]
    if order["status"] == "PartiallyShipped":
        return [i["quantity"] if n == 0 else 0 for n, i in enumerate(items)]
    return [0 for _ in items]


def priced(order: sqlite3.Row) -> bool:
    """Pending orders (and orders canceled before payment) carry no prices, as on Amazon."""
    return bool(order["paid"]) and order["status"] != "Pending"


def render_order(order: sqlite3.Row, items: list[sqlite3.Row]) -> dict[str, Any]:
    market = marketplaces.BY_ID[order["marketplace_id"]]
    shipped = sum(shipped_quantities(order, items))
    ordered = sum(i["quantity"] for i in items)
    canceled = order["status"] == "Canceled"
    found: dict[str, Any] = {
        "AmazonOrderId": order["amazon_order_id"],
        "PurchaseDate": iso(order["purchase_date"]),
        "LastUpdateDate": iso(order["last_update_date"]),
        "OrderStatus": order["status"],
        "FulfillmentChannel": order["fulfillment_channel"],
        "SalesChannel": market.name,
        "ShipServiceLevel": order["ship_service_level"],
    }
    if priced(order):
        found["OrderTotal"] = money(order["currency"], order["order_total"])
    found.update(
        {
            "NumberOfItemsShipped": shipped,
            "NumberOfItemsUnshipped": 0 if canceled else ordered - shipped,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": order["marketplace_id"],
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": iso(order["purchase_date"]),
            "LatestShipDate": iso(order["latest_ship_date"]),
            "IsBusinessOrder": bool(order["is_business"]),
            "IsPrime": bool(order["is_prime"]),
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "HasRegulatedItems": False,
            "ShippingAddress": {
                "City": order["ship_city"],
                "PostalCode": order["ship_postal_code"],
                "CountryCode": order["ship_country"],
            },
        }
    )
    return found


def item_tax(gross: Decimal, vat_percent: Decimal) -> Decimal:
    """The VAT included in a gross (VAT-inclusive) EU price."""
    return gross - gross / (1 + vat_percent / 100)


def render_items(order: sqlite3.Row, items: list[sqlite3.Row]) -> list[dict[str, Any]]:
    market = marketplaces.BY_ID[order["marketplace_id"]]
    shipped = shipped_quantities(order, items)
    show_prices = priced(order)
    rendered = []
    for item, quantity_shipped in zip(items, shipped, strict=True):
        found: dict[str, Any] = {
            "ASIN": item["asin"],
            "SellerSKU": item["seller_sku"],
            "OrderItemId": item["order_item_id"],
            "Title": item["title"],
            "QuantityOrdered": item["quantity"],
            "QuantityShipped": quantity_shipped,
            "ProductInfo": {"NumberOfItems": "1"},
        }
        if show_prices:
            gross = Decimal(item["unit_price"]) * item["quantity"]
            shipping = Decimal(item["shipping_price"])
            found.update(
                {
                    "ItemPrice": money(order["currency"], gross),
                    "ItemTax": money(order["currency"], item_tax(gross, market.vat_percent)),
                    "ShippingPrice": money(order["currency"], shipping),
                    "ShippingTax": money(order["currency"], item_tax(shipping, market.vat_percent)),
                    "PromotionDiscount": money(order["currency"], "0"),
                    "PromotionDiscountTax": money(order["currency"], "0"),
                    "IsGift": "false",
                }
            )
        found.update(
            {
                "ConditionId": "New",
                "ConditionSubtypeId": "New",
                "IsTransparency": False,
                "SerialNumberRequired": False,
            }
        )
        rendered.append(found)
    return rendered


def items_of(conn: sqlite3.Connection, order_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM order_items WHERE amazon_order_id = ? ORDER BY position", (order_id,)).fetchall()


def items_by_order(conn: sqlite3.Connection, order_ids: list[str]) -> dict[str, list[sqlite3.Row]]:
    """The items of many orders in one query (a getOrders page)."""
    found: dict[str, list[sqlite3.Row]] = {order_id: [] for order_id in order_ids}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        rows = conn.execute(
            f"SELECT * FROM order_items WHERE amazon_order_id IN ({','.join('?' for _ in chunk)}) "
            "ORDER BY amazon_order_id, position",
            chunk,
        )
        for row in rows:
            found[row["amazon_order_id"]].append(row)
    return found
