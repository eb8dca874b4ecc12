"""An ORDER_CHANGE notification as Amazon sends it to the queue (OrderChangeNotification.json)."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from sandbox.spapi.clock import iso_ms


def order_change(
    conn: sqlite3.Connection, entry: sqlite3.Row, application_id: str, subscription_id: str, now: float
) -> dict[str, Any]:
    """The notification of one outbox entry (the order as it was at the change, its lines now)."""
    order = conn.execute("SELECT * FROM orders WHERE amazon_order_id = ?", (entry["amazon_order_id"],)).fetchone()
    lines = conn.execute(
        "SELECT order_item_id, seller_sku, quantity FROM order_items WHERE amazon_order_id = ? ORDER BY position",
        (entry["amazon_order_id"],),
    ).fetchall()
    shipped = entry["status"] == "Shipped"
    items = [
        {
            "OrderItemId": line["order_item_id"],
            "SellerSKU": line["seller_sku"],
            "SupplySourceId": None,
            "OrderItemStatus": "Shipped" if shipped else "Unshipped",  # the model's two item statuses
            "Quantity": line["quantity"],
            "QuantityShipped": line["quantity"] if shipped else 0,
            "IsBuyerRequestedCancel": False,
        }
        for line in lines
    ]
    quantity = sum(line["quantity"] for line in lines)
    summary = {
        "MarketplaceId": order["marketplace_id"],
        "OrderStatus": entry["status"],
        "PurchaseDate": iso_ms(order["purchase_date"]),
        "DestinationPostalCode": order["ship_postal_code"],
        "FulfillmentType": order["fulfillment_channel"],
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": quantity if shipped else 0,
        "NumberOfItemsUnshipped": 0 if shipped else quantity,
        "LatestShipDate": iso_ms(order["latest_ship_date"]),
        "OrderPrograms": [p for p, on in (("Prime", order["is_prime"]), ("Business", order["is_business"])) if on],
        "ShippingPrograms": [],
        "OrderItems": items,
    }
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso_ms(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": entry["seller_id"],
                "AmazonOrderId": entry["amazon_order_id"],
                "OrderChangeType": entry["change_type"],
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": iso_ms(entry["changed_at"]),
                    "ChangeReason": "Order status changed" if entry["status"] != "Pending" else "Order created",
                },
                "Summary": summary,
            }
        },
        "NotificationMetadata": {
            "ApplicationId": application_id,
            "SubscriptionId": subscription_id,
            "PublishTime": iso_ms(now),
            "NotificationId": entry["notification_id"] or str(uuid.uuid4()),
        },
    }
