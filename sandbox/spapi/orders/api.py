"""Orders API v0: getOrders (with Amazon's parameter rules and stable NextToken paging), getOrder,
getOrderItems."""

from __future__ import annotations

import heapq
from typing import Any

from sandbox.spapi.accounts import require_marketplaces
from sandbox.spapi.call import Call, decode_token, encode_token
from sandbox.spapi.clock import MINUTE, iso, parse_iso
from sandbox.spapi.errors import ApiError, invalid_input
from sandbox.spapi.orders.generate import advance
from sandbox.spapi.orders.render import items_by_order, items_of, render_items, render_order

ITEMS_PAGE = 30
# Filters on data the sandbox's orders never have: such a filter matches nothing.
_NEVER_MATCH = (
    "BuyerEmail",
    "SellerOrderId",
    "EasyShipShipmentStatuses",
    "StoreChainStoreId",
    "ActualFulfillmentSupplySourceId",
)


def _date(call: Call, name: str) -> float | None:
    raw = call.query.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid_input(f"Invalid {name}: '{raw}' is not an ISO 8601 date-time.") from None


def _filters(call: Call) -> dict[str, Any]:
    q = call.query
    created_after, created_before = _date(call, "CreatedAfter"), _date(call, "CreatedBefore")
    updated_after, updated_before = _date(call, "LastUpdatedAfter"), _date(call, "LastUpdatedBefore")
    order_ids = q.get("AmazonOrderIds")
    if created_after is None and updated_after is None and not order_ids:
        raise invalid_input("Either CreatedAfter or LastUpdatedAfter must be specified.")
    if created_after is not None and (updated_after is not None or updated_before is not None):
        raise invalid_input("LastUpdatedAfter and LastUpdatedBefore cannot be set when CreatedAfter is set.")
    if updated_after is not None and created_before is not None:
        raise invalid_input("CreatedAfter and CreatedBefore cannot be set when LastUpdatedAfter is set.")
    family = (
        "created" if created_after is not None or (updated_after is None and created_before is not None) else "updated"
    )
    after = created_after if family == "created" else updated_after
    before = created_before if family == "created" else updated_before
    now = call.state.clock.now()
    latest = now - call.state.amazon_delay(2 * MINUTE)
    before_name = "CreatedBefore" if family == "created" else "LastUpdatedBefore"
    after_name = "CreatedAfter" if family == "created" else "LastUpdatedAfter"
    if after is not None and after > now:
        raise invalid_input(
            f"{after_name} {iso(after)} is in the future; it must be before the current time {iso(now)}."
        )
    if before is not None:
        if before > latest:
            raise invalid_input(
                f"{before_name} must be at least two minutes before the current time: {iso(before)} is later than "
                f"{iso(latest)}."
            )
        if after is not None and before < after:
            raise invalid_input(f"{before_name} {iso(before)} must be equal to or after {after_name} {iso(after)}.")
    statuses = q.get("OrderStatuses")
    page = q.get("MaxResultsPerPage", 100)
    if not 1 <= page <= 100:
        raise invalid_input(f"Invalid MaxResultsPerPage {page}: it must be between 1 and 100.")
    empty = any(name in q for name in _NEVER_MATCH) or q.get("IsISPU") is True
    return {
        "f": family,
        "a": after if after is not None else 0,
        "b": before if before is not None else latest,
        "m": q["MarketplaceIds"],
        "s": statuses or [],
        "c": q.get("FulfillmentChannels") or [],
        "p": q.get("PaymentMethods") or [],
        "i": order_ids or [],
        "n": page,
        "e": empty,
    }


def get_orders(call: Call) -> tuple[int, Any]:
    require_marketplaces(call.state, call.seller_id, call.query.get("MarketplaceIds", []))
    if "NextToken" in call.query:
        filters = decode_token(call.query["NextToken"], "NextToken")
        if filters.get("seller") != call.seller_id or "f" not in filters:
            raise invalid_input("Invalid NextToken: it was not issued for this seller.")
    else:
        filters = {**_filters(call), "seller": call.seller_id, "k": None}
    advance(call.state)
    column = "purchase_date" if filters["f"] == "created" else "last_update_date"
    page = filters["n"]
    rows = (
        [] if filters["e"] or ("Other" not in filters["p"] and filters["p"]) else _page(call, filters, column, page + 1)
    )
    more = len(rows) > page
    rows = rows[:page]
    conn = call.state.db.conn()
    items = items_by_order(conn, [r["amazon_order_id"] for r in rows])
    payload: dict[str, Any] = {"Orders": [render_order(r, items[r["amazon_order_id"]]) for r in rows]}
    if more:
        last = rows[-1]
        payload["NextToken"] = encode_token({**filters, "k": [last[column], last["amazon_order_id"]]})
    payload["CreatedBefore" if filters["f"] == "created" else "LastUpdatedBefore"] = iso(filters["b"])
    return 200, {"payload": payload}


def _page(call: Call, filters: dict[str, Any], column: str, limit: int) -> list:
    conn = call.state.db.conn()
    streams = []
    for marketplace_id in filters["m"]:
        # one seekable lower bound (the later of the After filter and the page cursor), then the tie-break
        lower = max(filters["a"], filters["k"][0]) if filters["k"] else filters["a"]
        where = [f"seller_id = ? AND marketplace_id = ? AND {column} >= ? AND {column} <= ?"]
        args: list[Any] = [filters["seller"], marketplace_id, lower, filters["b"]]
        if filters["k"]:
            where.append(f"({column} > ? OR amazon_order_id > ?)")
            args.extend(filters["k"])
        for key, name in (("s", "status"), ("c", "fulfillment_channel"), ("i", "amazon_order_id")):
            if filters[key]:
                where.append(f"{name} IN ({','.join('?' for _ in filters[key])})")
                args.extend(filters[key])
        sql = f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY {column}, amazon_order_id LIMIT ?"
        streams.append(conn.execute(sql, [*args, limit]).fetchall())
    if len(streams) == 1:
        return streams[0]
    merged = heapq.merge(*streams, key=lambda r: (r[column], r["amazon_order_id"]))
    return [row for _, row in zip(range(limit), merged, strict=False)]


def own_order(call: Call):
    """The order of the path's ``orderId`` if the calling seller owns it and it was placed by now; else 404."""
    advance(call.state)
    order_id = call.path["orderId"]
    row = call.state.db.one("SELECT * FROM orders WHERE amazon_order_id = ?", (order_id,))
    if row is None or row["seller_id"] != call.seller_id or row["purchase_date"] > call.state.clock.now():
        raise ApiError(404, "NotFound", f"Order {order_id} was not found for this seller.")
    return row


def get_order(call: Call) -> tuple[int, Any]:
    order = own_order(call)
    return 200, {"payload": render_order(order, items_of(call.state.db.conn(), order["amazon_order_id"]))}


def get_order_items(call: Call) -> tuple[int, Any]:
    order = own_order(call)
    items = render_items(order, items_of(call.state.db.conn(), order["amazon_order_id"]))
    start = 0
    if "NextToken" in call.query:
        token = decode_token(call.query["NextToken"], "NextToken")
        if token.get("order") != order["amazon_order_id"]:
            raise invalid_input("Invalid NextToken: it belongs to another order.")
        start = int(token["o"])
    payload: dict[str, Any] = {"OrderItems": items[start : start + ITEMS_PAGE]}
    if start + ITEMS_PAGE < len(items):
        payload["NextToken"] = encode_token({"order": order["amazon_order_id"], "o": start + ITEMS_PAGE})
    payload["AmazonOrderId"] = order["amazon_order_id"]
    return 200, {"payload": payload}


HANDLERS = {"getOrders": get_orders, "getOrder": get_order, "getOrderItems": get_order_items}
