"""The order API under ``/rest`` (BigBuy's paths, ``.json`` suffix, ``Authorization: Bearer <key>``)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.supplier import errors
from sandbox.supplier.store import InsufficientBalance, SupplierStore

ADDRESS_FIELDS = ("firstName", "lastName", "country", "postcode", "town", "address")


def _store(request: Request) -> SupplierStore:
    return request.app.state.supplier


def _date(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


async def _order_body(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return errors.plain(400, 400, "Invalid JSON")
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, dict):
        return errors.validation_failed({"order": ["This value should not be blank."]})
    missing: dict[str, list[str]] = {}
    if not order.get("internalReference"):
        missing["internalReference"] = ["This value should not be blank."]
    address = order.get("shippingAddress") or {}
    for name in ADDRESS_FIELDS:
        if not str(address.get(name) or "").strip():
            missing[f"shippingAddress.{name}"] = ["This value should not be blank."]
    products = order.get("products") or []
    if not products or any(not p.get("reference") or int(p.get("quantity") or 0) < 1 for p in products):
        missing["products"] = ["Each product needs a reference and a quantity of at least 1."]
    return errors.validation_failed(missing) if missing else order


def _refusal(store: SupplierStore, order: dict[str, Any]) -> Response | None:
    """Stock and address refusals, as BigBuy answers them (ER003, ER004)."""
    empty = [p["reference"] for p in order["products"] if p["reference"] in store.faults.out_of_stock]
    if empty:
        return errors.coded(409, "ER003", "Products without stock.", {"skus": empty})
    if str(order["shippingAddress"]["postcode"]) in store.faults.refused_postcodes:
        return errors.coded(409, "ER004", "The carrier does not deliver to this address.", {"zipExample": "00000"})
    return None


def _fault(store: SupplierStore, name: str) -> Response | None:
    store.count(name)
    with store.lock:
        if store.faults.error_5xx > 0:
            store.faults.error_5xx -= 1
            return errors.server_error()
    return None


async def check_order(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "check_order")) is not None:
        return failed
    order = await _order_body(request)
    if isinstance(order, Response):
        return order
    if (refused := _refusal(store, order)) is not None:
        return refused
    totals = store.totals(order["products"])
    if store.balance() < Decimal(str(totals["total"])):
        return _balance_refusal(store.balance(), totals["total"])
    return JSONResponse(totals)


def _balance_refusal(balance: Decimal | float, total: Decimal | float) -> Response:
    return errors.coded(
        409,
        "ER005",
        "Insufficient balance in your purse.",
        {"moneyBoxAmount": float(balance), "totalOrder": float(total)},
    )


async def create_order(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "create_order")) is not None:
        return failed
    order = await _order_body(request)
    if isinstance(order, Response):
        return order
    existing = store.by_reference(order["internalReference"])
    if existing is None and (refused := _refusal(store, order)) is not None:
        return refused
    total = Decimal(str(store.totals(order["products"])["total"]))
    try:
        order_id, created = store.create(order, total)
    except InsufficientBalance as exc:
        return _balance_refusal(exc.balance, exc.total)
    if not created:
        return errors.coded(409, "ER008", "The order already exists.", {"orderId": order_id})
    with store.lock:
        if store.faults.timeout_after_create > 0:
            store.faults.timeout_after_create -= 1
            return errors.gateway_timeout()
    return Response(status_code=201, headers={"Location": f"/rest/order/{order_id}"}, media_type="application/json")


def status_of(store: SupplierStore, row: Any) -> str:
    return "Shipped" if row["ship_at"] <= time.time() else "Processing"


def render_order(store: SupplierStore, row: Any) -> dict[str, Any]:
    body = json.loads(row["body"])
    total = Decimal(row["total"])
    return {
        "id": str(row["id"]),
        "internalReference": row["reference"],
        "dateAdd": _date(row["created_at"]),
        "totalPaidTaxIncl": float(total),
        "totalPaidTaxExcl": float((total / Decimal("1.21")).quantize(Decimal("0.01"))),
        "totalShippingTaxExcl": 4.0,
        "totalShippingTaxIncl": 4.84,
        "status": status_of(store, row),
        "carriers": [{"id": "1", "name": row["carrier"], "price": 4.0}],
        "shippingAddress": {"country": body["shippingAddress"]["country"]},  # the rest is not echoed back
        "products": [
            {
                "id": str(n),
                "reference": p["reference"],
                "quantity": int(p["quantity"]),
                "name": p["reference"],
                "priceTaxIncl": 0.0,
                "priceTaxExcl": 0.0,
            }
            for n, p in enumerate(body["products"], 1)
        ],
    }


async def order_by_id(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "get_order")) is not None:
        return failed
    row = store.by_id(int(request.path_params["order_id"]))
    if row is None:
        return errors.plain(404, 404, "Order not found")
    return JSONResponse(render_order(store, row))


async def order_by_reference(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "get_order_by_reference")) is not None:
        return failed
    row = store.by_reference(request.path_params["reference"])
    if row is None:
        return errors.plain(404, 404, "Order not found")
    return JSONResponse({"id": str(row["id"]), "totalPaidTaxIncl": row["total"]})


def tracking_of(row: Any) -> dict[str, Any] | None:
    if row["ship_at"] > time.time():
        return None
    return {
        "id": row["id"],
        "reference": row["reference"],
        "trackings": [
            {
                "trackingNumber": row["tracking_number"],
                "statusDescription": "Shipped",
                "statusDate": _date(row["ship_at"]),
                "carrier": {"id": "1", "name": row["carrier"]},
                "descriptionTranslated": "Shipped",
            }
        ],
    }


async def tracking_orders(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "get_tracking_orders")) is not None:
        return failed
    try:
        wanted = [int(o["id"]) for o in json.loads(await request.body())["track"]["orders"]]
    except (ValueError, KeyError, TypeError):
        return errors.validation_failed({"track": ["A list of orders {id} is required."]})
    found = [tracking_of(row) for row in (store.by_id(i) for i in wanted) if row is not None]
    return JSONResponse([t for t in found if t is not None])


async def purse(request: Request) -> Response:
    store = _store(request)
    if (failed := _fault(store, "get_purse")) is not None:
        return failed
    return JSONResponse(float(store.balance()))


def routes() -> list[Route]:
    return [
        Route("/rest/order/check.json", check_order, methods=["POST"]),
        Route("/rest/order/create.json", create_order, methods=["POST"]),
        Route("/rest/order/reference/{reference}.json", order_by_reference, methods=["GET"]),
        Route("/rest/order/{order_id:int}.json", order_by_id, methods=["GET"]),
        Route("/rest/tracking/orders.json", tracking_orders, methods=["POST"]),
        Route("/rest/user/purse.json", purse, methods=["GET"]),
    ]
