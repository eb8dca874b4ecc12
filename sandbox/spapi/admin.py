"""The admin API under ``/_sandbox/`` (JSON, no auth): faults, account switches, order generation,
and the truth (accounts, listings, orders, feeds, reports, calls) that tests compare MIP with."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.spapi import accounts, marketplaces
from sandbox.spapi.accounts import AccountSpec
from sandbox.spapi.clock import iso, iso_ms, parse_iso
from sandbox.spapi.feeds.api import render_feed
from sandbox.spapi.listings import store
from sandbox.spapi.listings.product_types import PRODUCT_TYPES
from sandbox.spapi.listings.seed import register_catalog_item, seed_listings
from sandbox.spapi.notifications import delivery as notifications
from sandbox.spapi.orders.generate import advance, generate
from sandbox.spapi.orders.render import items_of, render_items, render_order
from sandbox.spapi.reports.api import render_report
from sandbox.spapi.state import State


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _state(request: Request) -> State:
    return request.app.state.sandbox


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AdminError(400, "the request body must be a JSON object")
    return body


def _seller(state: State, seller_id: str):
    try:
        return accounts.account_row(state, seller_id)
    except KeyError as exc:
        raise AdminError(404, str(exc.args[0])) from None


def _marketplace_id(source: dict[str, Any], required: bool = True) -> str | None:
    if source.get("marketplace_id"):
        if source["marketplace_id"] not in marketplaces.BY_ID:
            raise AdminError(400, f"unknown marketplace_id {source['marketplace_id']!r}")
        return source["marketplace_id"]
    if source.get("country"):
        try:
            return marketplaces.by_country(source["country"]).marketplace_id
        except KeyError as exc:
            raise AdminError(400, str(exc.args[0])) from None
    if required:
        raise AdminError(400, "give marketplace_id or country")
    return None


def _time(value: Any, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError as exc:
            raise AdminError(400, f"{name}: {exc}") from None
    raise AdminError(400, f"{name} must be an ISO 8601 date-time or epoch seconds")


def endpoint(handler):
    async def wrapped(request: Request) -> JSONResponse:
        try:
            status, body = await handler(request)
        except AdminError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": str(exc.args[0]) if exc.args else repr(exc)}, status_code=400)
        return JSONResponse(body, status_code=status)

    return wrapped


async def health(request: Request):
    return 200, {"ok": True}


async def info(request: Request):
    state = _state(request)
    app = state.app
    return 200, {
        **state.describe(),
        "base_url": state.base_url,
        "lwa_client_id": app.client_id,
        "application_id": app.application_id,
        "consent_url": f"{state.base_url}/apps/authorize/consent",
    }


async def list_accounts(request: Request):
    return 200, accounts.describe_accounts(_state(request), request.app.state.tokens)


async def create_account(request: Request):
    body = await _json(request)
    spec = AccountSpec(
        name=body["account"],
        seller_id=body["seller_id"],
        region=body.get("region", "eu"),
        store_name=body.get("store_name", f"{body['account']} store"),
        login_email=body.get("login_email", f"{body['account']}@mip.example"),
        login_password=body.get("login_password", f"{body['account']}-password"),
        participating=body.get("participating", []),
        not_participating=body.get("not_participating", []),
        bil=[(b["source"], b["target"], b.get("enabled", True)) for b in body.get("bil", [])],
    )
    accounts.create_account(_state(request), request.app.state.tokens, spec)
    return 201, next(
        a
        for a in accounts.describe_accounts(_state(request), request.app.state.tokens)
        if a["seller_id"] == spec.seller_id
    )


async def revoke(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    return 200, {"revoked": request.app.state.tokens.revoke_seller(seller_id)}


async def authorization(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    body = await _json(request)
    if "authorized_at" not in body:
        raise AdminError(400, "authorized_at is required")
    accounts.set_authorized_at(state, seller_id, _time(body["authorized_at"], "authorized_at"))
    return 200, {"seller_id": seller_id, "authorized_at": iso(_time(body["authorized_at"], "authorized_at"))}


async def participation(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    body = await _json(request)
    if not isinstance(body.get("participating"), bool) or not body.get("country"):
        raise AdminError(400, 'give {"country": "FR", "participating": true|false}')
    accounts.set_participation(state, seller_id, body["country"], body["participating"])
    return 200, {"seller_id": seller_id, "marketplaces": accounts.participations(state, seller_id)}


async def bil_link(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    body = await _json(request)
    if not isinstance(body.get("enabled"), bool) or not body.get("source") or not body.get("target"):
        raise AdminError(400, 'give {"source": "IT", "target": "FR", "enabled": true|false}')
    accounts.set_bil(state, seller_id, body["source"], body["target"], body["enabled"])
    return 200, {"seller_id": seller_id, "source": body["source"], "target": body["target"], "enabled": body["enabled"]}


async def new_refresh_token(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    return 200, {"seller_id": seller_id, "refresh_token": request.app.state.tokens.new_refresh_token(seller_id)}


async def expire_access_tokens(request: Request):
    state, seller_id = _state(request), request.path_params["seller_id"]
    _seller(state, seller_id)
    request.app.state.tokens.expire_access_tokens(seller_id)
    return 200, {"seller_id": seller_id}


async def faults(request: Request):
    state = _state(request)
    if request.method == "POST":
        state.faults.update(await _json(request))
    elif request.method == "DELETE":
        state.faults.reset()
    return 200, {**state.faults.current.public(), "held": state.faults.held()}


async def release(request: Request):
    """Release the held calls of one operation: ``{"operation": "createFeed", "outcome": "proceed"|"drop"}``."""
    state = _state(request)
    body = await _json(request)
    if not isinstance(body.get("operation"), str):
        raise AdminError(400, 'give {"operation": "createFeed", "outcome": "proceed" or "drop"}')
    released = state.faults.release(body["operation"], body.get("outcome", "proceed"))
    return 200, {"released": released, **state.faults.current.public(), "held": state.faults.held()}


async def generate_orders(request: Request):
    state = _state(request)
    body = await _json(request)
    seller_id = body.get("seller_id") or ""
    _seller(state, seller_id)
    marketplace_id = _marketplace_id(body)
    now = state.clock.now()
    start = _time(body.get("start", now - 3600), "start")
    end = _time(body.get("end", now), "end")
    count = body.get("count", 10)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise AdminError(400, "count must be an integer >= 0")
    ids = await run_in_threadpool(
        generate, state, seller_id, marketplace_id, count, start, end, body.get("skus"), body.get("items_per_order")
    )
    return 201, {"count": len(ids), "amazon_order_ids": ids}


def _orders_truth(state: State, seller_id: str | None, marketplace_id: str | None) -> list[dict[str, Any]]:
    advance(state)
    conn = state.db.conn()
    where, args = ["purchase_date <= ?"], [state.clock.now()]
    if seller_id:
        where.append("seller_id = ?")
        args.append(seller_id)
    if marketplace_id:
        where.append("marketplace_id = ?")
        args.append(marketplace_id)
    result = []
    for order in conn.execute(
        f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY purchase_date, amazon_order_id", args
    ):
        items = items_of(conn, order["amazon_order_id"])
        pending = conn.execute(
            "SELECT at, status FROM order_events WHERE amazon_order_id = ? ORDER BY at", (order["amazon_order_id"],)
        ).fetchall()
        result.append(
            {
                **render_order(order, items),
                "SellerId": order["seller_id"],
                "OrderItems": render_items(order, items),
                "ScheduledStatusChanges": [{"at": iso(p["at"]), "status": p["status"]} for p in pending],
            }
        )
    return result


async def orders_truth(request: Request):
    q = request.query_params
    state = _state(request)
    return 200, await run_in_threadpool(
        _orders_truth, state, q.get("seller_id"), _marketplace_id(dict(q), required=False)
    )


def _listings_truth(state: State, q: dict[str, Any]) -> list[dict[str, Any]]:
    where, args = ["1"], []
    if q.get("seller_id"):
        where.append("seller_id = ?")
        args.append(q["seller_id"])
    marketplace_id = _marketplace_id(q, required=False)
    if marketplace_id:
        where.append("marketplace_id = ?")
        args.append(marketplace_id)
    if q.get("sku"):
        where.append("sku = ?")
        args.append(q["sku"])
    limit = int(q.get("limit", 1_000_000))
    offset = int(q.get("offset", 0))
    with_attributes = q.get("attributes") in ("1", "true")
    rows = state.db.query(
        f"SELECT * FROM listings WHERE {' AND '.join(where)} ORDER BY seller_id, marketplace_id, sku LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return [store.truth_row(r, with_attributes) for r in rows]


async def listings_truth(request: Request):
    return 200, await run_in_threadpool(_listings_truth, _state(request), dict(request.query_params))


async def seed(request: Request):
    state = _state(request)
    body = await _json(request)
    _seller(state, body.get("seller_id") or "")
    count = await run_in_threadpool(
        seed_listings, state, body["seller_id"], _marketplace_id(body), body.get("listings", [])
    )
    return 201, {"seeded": count}


async def catalog_item(request: Request):
    body = await _json(request)
    asin = register_catalog_item(
        _state(request),
        body.get("region", "eu"),
        body.get("gtin"),
        body.get("brand"),
        body.get("item_name"),
        body.get("product_type", "PRODUCT"),
        body.get("gtin_type", "ean"),
    )
    return 201, {"asin": asin}


def _feeds_truth(state: State, q: dict[str, Any]) -> list[dict[str, Any]]:
    where, args = ["1"], []
    if q.get("seller_id"):
        where.append("seller_id = ?")
        args.append(q["seller_id"])
    with_documents = q.get("documents", "1") not in ("0", "false")
    result = []
    for row in state.db.query(f"SELECT * FROM feeds WHERE {' AND '.join(where)} ORDER BY created_at, feed_id", args):
        entry = {
            **render_feed(row),
            "sellerId": row["seller_id"],
            "inputFeedDocumentId": row["input_doc_id"],
            "messages": row["messages"],
            "accepted": row["accepted"],
            "invalid": row["invalid"],
            "errors": row["errors"],
            "warnings": row["warnings"],
            "fatalReason": row["fatal_reason"],
            "computeSeconds": row["compute_seconds"],
        }
        if with_documents:
            doc = state.db.one("SELECT content FROM documents WHERE doc_id = ?", (row["input_doc_id"],))
            entry["document"] = _document_text(doc["content"] if doc else None)
            if row["result_doc_id"]:
                report = state.db.one("SELECT content FROM documents WHERE doc_id = ?", (row["result_doc_id"],))
                entry["processingReport"] = json.loads(report["content"])
        result.append(entry)
    return result


def _document_text(content: bytes | None) -> Any:
    import gzip

    if content is None:
        return None
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except OSError:
            return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")
    try:
        return json.loads(text)
    except ValueError:
        return text


async def feeds_truth(request: Request):
    return 200, await run_in_threadpool(_feeds_truth, _state(request), dict(request.query_params))


async def reports_truth(request: Request):
    state = _state(request)
    rows = state.db.query("SELECT * FROM reports ORDER BY created_at, report_id")
    return 200, [{**render_report(r), "sellerId": r["seller_id"], "rows": r["rows"]} for r in rows]


async def calls(request: Request):
    state = _state(request)
    return 200, state.stats.snapshot()


async def violations(request: Request):
    return 200, {"violations": list(_state(request).stats.violations)}


async def reset_counters(request: Request):
    _state(request).stats.reset()
    return 200, {"ok": True}


async def reset_rate_limits(request: Request):
    _state(request).limiter.reset()
    return 200, {"ok": True}


async def product_types(request: Request):
    return 200, sorted(PRODUCT_TYPES)


async def notifications_truth(request: Request):
    """Every ORDER_CHANGE notification due or done: state pending|held|released|sent|dropped|undeliverable."""
    state = _state(request)
    return 200, await run_in_threadpool(notifications.truth, state, request.query_params.get("seller_id"))


async def notifications_release(request: Request):
    """Send the notifications the ``notifications_delayed`` fault holds (now, in the worker's next step)."""
    state = _state(request)
    released = await run_in_threadpool(notifications.release, state)
    await run_in_threadpool(request.app.state.worker.step)
    return 200, {"released": released}


async def tick(request: Request):
    await run_in_threadpool(request.app.state.worker.step)
    return 200, {"ok": True, "now": iso_ms(_state(request).clock.now())}


def routes() -> list[Route]:
    p = "/_sandbox"
    return [
        Route(f"{p}/health", endpoint(health), methods=["GET"]),
        Route(f"{p}/info", endpoint(info), methods=["GET"]),
        Route(f"{p}/accounts", endpoint(list_accounts), methods=["GET"]),
        Route(f"{p}/accounts", endpoint(create_account), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/revoke", endpoint(revoke), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/authorization", endpoint(authorization), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/participation", endpoint(participation), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/bil", endpoint(bil_link), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/refresh_token", endpoint(new_refresh_token), methods=["POST"]),
        Route(f"{p}/accounts/{{seller_id}}/expire_access_tokens", endpoint(expire_access_tokens), methods=["POST"]),
        Route(f"{p}/faults", endpoint(faults), methods=["GET", "POST", "DELETE"]),
        Route(f"{p}/faults/release", endpoint(release), methods=["POST"]),
        Route(f"{p}/orders/generate", endpoint(generate_orders), methods=["POST"]),
        Route(f"{p}/orders", endpoint(orders_truth), methods=["GET"]),
        Route(f"{p}/listings", endpoint(listings_truth), methods=["GET"]),
        Route(f"{p}/listings/seed", endpoint(seed), methods=["POST"]),
        Route(f"{p}/catalog", endpoint(catalog_item), methods=["POST"]),
        Route(f"{p}/feeds", endpoint(feeds_truth), methods=["GET"]),
        Route(f"{p}/reports", endpoint(reports_truth), methods=["GET"]),
        Route(f"{p}/calls", endpoint(calls), methods=["GET"]),
        Route(f"{p}/contract-violations", endpoint(violations), methods=["GET"]),
        Route(f"{p}/reset-counters", endpoint(reset_counters), methods=["POST"]),
        Route(f"{p}/reset-rate-limits", endpoint(reset_rate_limits), methods=["POST"]),
        Route(f"{p}/product-types", endpoint(product_types), methods=["GET"]),
        Route(f"{p}/tick", endpoint(tick), methods=["POST"]),
        Route(f"{p}/notifications", endpoint(notifications_truth), methods=["GET"]),
        Route(f"{p}/notifications/release", endpoint(notifications_release), methods=["POST"]),
    ]
