"""The admin API under ``/_supplier/`` (JSON, no auth, 127.0.0.1): faults, the purse, shipping, the truth."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.supplier.api import status_of, tracking_of
from sandbox.supplier.store import Faults, SupplierStore


def _store(request: Request) -> SupplierStore:
    return request.app.state.supplier


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body


def _amount(body: dict[str, Any]) -> Decimal:
    try:
        return Decimal(str(body["amount"]))
    except (KeyError, InvalidOperation):
        raise ValueError('give an amount, e.g. {"amount": 1000}') from None


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def faults(request: Request) -> Response:
    """GET the faults; POST sets the given ones (error_5xx, timeout_after_create: counts; out_of_stock,
    refused_postcodes: lists); DELETE clears them all."""
    store = _store(request)
    if request.method == "DELETE":
        store.faults = Faults()
    elif request.method == "POST":
        try:
            body = await _body(request)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        with store.lock:
            for name in ("error_5xx", "timeout_after_create"):
                if name in body:
                    setattr(store.faults, name, int(body[name]))
            for name in ("out_of_stock", "refused_postcodes"):
                if name in body:
                    setattr(store.faults, name, {str(v) for v in body[name]})
    return JSONResponse(store.faults.as_dict())


async def purse(request: Request) -> Response:
    """POST {"amount"} sets the prepaid balance; POST .../top-up {"amount"} adds to it."""
    store = _store(request)
    try:
        amount = _amount(await _body(request))
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if request.url.path.endswith("/top-up"):
        return JSONResponse({"balance": float(store.top_up(amount))})
    store.set_balance(amount)
    return JSONResponse({"balance": float(amount)})


async def ship(request: Request) -> Response:
    """Ship every order still in handling now (tests synchronise on this instead of waiting)."""
    return JSONResponse({"shipped": _store(request).ship_now()})


async def truth(request: Request) -> Response:
    """Every order the supplier holds, with its status and tracking, and the refused duplicate creates."""
    store = _store(request)
    orders = []
    for row in store.all_orders():
        body = json.loads(row["body"])
        tracking = tracking_of(row)
        orders.append(
            {
                "id": row["id"],
                "reference": row["reference"],
                "products": body["products"],
                "total": row["total"],
                "status": status_of(store, row),
                "carrier": row["carrier"] if tracking else None,
                "trackingNumber": row["tracking_number"] if tracking else None,
                "duplicateCreates": store.duplicate_creates.get(row["reference"], 0),
            }
        )
    return JSONResponse({"orders": orders, "balance": float(store.balance()), "calls": dict(store.calls)})


async def reset_counters(request: Request) -> Response:
    store = _store(request)
    with store.lock:
        store.calls.clear()
    return JSONResponse({"ok": True})


def routes() -> list[Route]:
    p = "/_supplier"
    return [
        Route(f"{p}/health", health, methods=["GET"]),
        Route(f"{p}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{p}/purse", purse, methods=["POST"]),
        Route(f"{p}/purse/top-up", purse, methods=["POST"]),
        Route(f"{p}/ship", ship, methods=["POST"]),
        Route(f"{p}/orders", truth, methods=["GET"]),
        Route(f"{p}/reset-counters", reset_counters, methods=["POST"]),
    ]
