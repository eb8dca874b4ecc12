"""Seller-fulfilled shipping: createRestrictedDataToken, getOrderAddress (RDT only), confirmShipment,
and the admin routes tests use (cancel an order as a buyer would, the truth of confirmed shipments)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.spapi.call import Call
from sandbox.spapi.clock import iso, parse_iso
from sandbox.spapi.errors import invalid_input
from sandbox.spapi.orders.api import own_order
from sandbox.spapi.state import State

SCHEMA = """
CREATE TABLE IF NOT EXISTS shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    amazon_order_id TEXT NOT NULL,
    seller_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    package_reference_id TEXT NOT NULL,
    carrier_code TEXT NOT NULL,
    carrier_name TEXT,
    tracking_number TEXT NOT NULL,
    ship_date TEXT NOT NULL,
    items TEXT NOT NULL,
    confirmed_at REAL NOT NULL
);
"""
ADDRESSED = ("Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed")
_STREETS = ("Via Roma", "Hauptstraße", "Rue de la Paix", "Calle Mayor", "High Street")
_NAMES = ("Giulia Rossi", "Lukas Müller", "Camille Martin", "Lucía García", "Oliver Smith")


def install(state: State) -> None:
    state.db.conn().executescript(SCHEMA)


def buyer_address(order: Any) -> dict[str, Any]:
    """A stable made-up address per order (name, street, phone): the PII Amazon releases only under an RDT."""
    seed = int(hashlib.sha256(order["amazon_order_id"].encode()).hexdigest()[:8], 16)
    return {
        "Name": _NAMES[seed % len(_NAMES)],
        "AddressLine1": f"{_STREETS[seed % len(_STREETS)]} {seed % 200 + 1}",
        "City": order["ship_city"],
        "PostalCode": order["ship_postal_code"],
        "CountryCode": order["ship_country"],
        "Phone": f"+39 06 {seed % 10_000_000:07d}",
        "AddressType": "Residential",
    }


def create_restricted_data_token(call: Call) -> tuple[int, Any]:
    body = call.body or {}
    return 200, call.state.rdts.issue(call.seller_id, body.get("restrictedResources") or [])


def get_order_address(call: Call) -> tuple[int, Any]:
    call.state.rdts.require(call.access_token, "GET", f"/orders/v0/orders/{call.path['orderId']}/address")
    order = own_order(call)
    payload: dict[str, Any] = {"AmazonOrderId": order["amazon_order_id"]}
    if order["status"] in ADDRESSED:
        payload["ShippingAddress"] = buyer_address(order)
    return 200, {"payload": payload}


def _package(body: dict[str, Any]) -> dict[str, Any]:
    package = body.get("packageDetail") or {}
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems"):
        if not package.get(name):
            raise invalid_input(f"packageDetail.{name} is required.")
    try:
        parse_iso(package["shipDate"])
    except ValueError:
        raise invalid_input(f"Invalid shipDate '{package['shipDate']}'.") from None
    return package


def confirm_shipment(call: Call) -> tuple[int, Any]:
    order = own_order(call)
    body = call.body or {}
    if body.get("marketplaceId") != order["marketplace_id"]:
        raise invalid_input(f"marketplaceId must be the order's marketplace {order['marketplace_id']}.")
    package = _package(body)
    known = {
        r["order_item_id"]
        for r in call.state.db.query(
            "SELECT order_item_id FROM order_items WHERE amazon_order_id = ?", (order["amazon_order_id"],)
        )
    }
    for item in package["orderItems"]:
        if item.get("orderItemId") not in known:
            raise invalid_input(f"orderItemId {item.get('orderItemId')} is not an item of this order.")
    if order["status"] not in ("Unshipped", "PartiallyShipped"):
        raise invalid_input(f"Order {order['amazon_order_id']} is {order['status']}: it cannot be confirmed shipped.")
    now = call.state.clock.now()
    with call.state.db.tx() as conn:
        conn.execute(
            "INSERT INTO shipments (amazon_order_id, seller_id, marketplace_id, package_reference_id, carrier_code,"
            " carrier_name, tracking_number, ship_date, items, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order["amazon_order_id"],
                call.seller_id,
                order["marketplace_id"],
                str(package["packageReferenceId"]),
                package["carrierCode"],
                package.get("carrierName"),
                package["trackingNumber"],
                package["shipDate"],
                json.dumps(package["orderItems"]),
                now,
            ),
        )
        conn.execute(
            "UPDATE orders SET status = 'Shipped', last_update_date = ? WHERE amazon_order_id = ?",
            (int(now), order["amazon_order_id"]),
        )
        conn.execute("DELETE FROM order_events WHERE amazon_order_id = ?", (order["amazon_order_id"],))
    return 204, None


HANDLERS = {
    "createRestrictedDataToken": create_restricted_data_token,
    "getOrderAddress": get_order_address,
    "confirmShipment": confirm_shipment,
}


# --- admin -------------------------------------------------------------------------------------
async def cancel_order(request: Request) -> JSONResponse:
    """The buyer cancels (or Amazon does): an order not shipped yet becomes Canceled now."""
    state: State = request.app.state.sandbox
    order_id = request.path_params["order_id"]
    row = state.db.one("SELECT status FROM orders WHERE amazon_order_id = ?", (order_id,))
    if row is None:
        return JSONResponse({"error": f"no order {order_id}"}, status_code=404)
    if row["status"] in ("Shipped", "PartiallyShipped"):
        return JSONResponse({"error": f"order {order_id} is {row['status']}"}, status_code=409)
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE orders SET status = 'Canceled', last_update_date = ? WHERE amazon_order_id = ?",
            (int(state.clock.now()), order_id),
        )
        conn.execute("DELETE FROM order_events WHERE amazon_order_id = ?", (order_id,))
    return JSONResponse({"amazon_order_id": order_id, "status": "Canceled"})


async def shipments_truth(request: Request) -> JSONResponse:
    state: State = request.app.state.sandbox
    rows = state.db.query("SELECT * FROM shipments ORDER BY id")
    return JSONResponse(
        [
            {
                "amazonOrderId": r["amazon_order_id"],
                "sellerId": r["seller_id"],
                "marketplaceId": r["marketplace_id"],
                "packageReferenceId": r["package_reference_id"],
                "carrierCode": r["carrier_code"],
                "carrierName": r["carrier_name"],
                "trackingNumber": r["tracking_number"],
                "shipDate": r["ship_date"],
                "orderItems": json.loads(r["items"]),
                "confirmedAt": iso(r["confirmed_at"]),
            }
            for r in rows
        ]
    )


def admin_routes() -> list[Route]:
    return [
        Route("/_sandbox/orders/{order_id}/cancel", cancel_order, methods=["POST"]),
        Route("/_sandbox/shipments", shipments_truth, methods=["GET"]),
    ]
