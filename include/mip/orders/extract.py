"""Talking to Amazon for one run: getOrders pages, getOrderItems, the orders report.

Every call goes through the gateway (rate budget, retries, error mapping). What Amazon returns is
kept in ``mip.order_pages`` before it is normalised into the stage tables, so a run can be replayed
from its pages. Item fetching commits every ``ITEMS_COMMIT_EVERY`` orders: a retried task goes on
where the previous attempt stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import psycopg

from mip.amazon import apis, reports
from mip.amazon.gateway import SpApiGateway
from mip.orders import cost, intervals, normalise, stage
from mip.orders.window import Window
from mip.runs import RunKey

log = logging.getLogger(__name__)
PAGE_SIZE = 100
ITEMS_COMMIT_EVERY = 50


def amazon_time(value: datetime) -> str:
    """ISO 8601 UTC with seconds, as Amazon prints and accepts dates."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _orders_client(gateway: SpApiGateway, country: str):
    return apis.orders(gateway, country)


@dataclass(frozen=True)
class Page:
    seq: int
    orders: int  # staged from this page
    next_token: str | None
    last_update: datetime | None  # the newest LastUpdateDate on the page


def read_page(
    conn: psycopg.Connection, gateway: SpApiGateway, run: RunKey, window: Window, previous: Page | None
) -> Page:
    """One getOrders page (the window's first, or the one after ``previous``) -> order_pages, stage_orders."""
    client = _orders_client(gateway, run.country)
    if previous is None:
        request: dict = {
            "MarketplaceIds": [run.marketplace_id],
            "LastUpdatedAfter": amazon_time(window.start),
            "LastUpdatedBefore": amazon_time(window.before),
            "MaxResultsPerPage": PAGE_SIZE,
        }
    else:
        request = {"MarketplaceIds": [run.marketplace_id], "NextToken": previous.next_token}
    seq = 1 if previous is None else previous.seq + 1
    response = gateway.call("getOrders", lambda: client.get_orders(**request), country=run.country)
    payload = response.payload or {}
    stage.save_page(conn, run, "orders", seq, request, payload=payload)
    orders = [normalise.api_order(o, run.channel_id, run.marketplace_id) for o in payload.get("Orders", [])]
    staged = stage.stage_orders(conn, run, "api", orders)
    # an order Amazon changed while the run paged comes back newer: its lines must be fetched again
    stage.forget_stale_items(conn, run.channel_id, run.run_id)
    stage.mark_unchanged(conn, run.channel_id, run.run_id)
    newest = max((o.last_update_date for o in orders), default=None)
    return Page(seq, staged, payload.get("NextToken"), newest)


def page_orders(
    conn: psycopg.Connection, gateway: SpApiGateway, run: RunKey, window: Window, first: Page | None = None
) -> tuple[int, int]:
    """Every getOrders page of the window (after ``first`` when it was read already), fetching order
    items while getOrders waits for its next token: the two operations have usage plans of their
    own, so the import takes as long as the slower of them, not their sum.

    Returns (orders staged, orders whose items were fetched); the items step fetches the rest.
    """
    page = first or read_page(conn, gateway, run, window, None)
    staged, fetched = page.orders, 0
    while page.next_token:
        for order_id, raw in _orders_without_items(conn, run):
            if gateway.ready("getOrders"):
                break
            _fetch_order_items(conn, gateway, run, order_id, raw)
            fetched += 1
        conn.commit()
        page = read_page(conn, gateway, run, window, page)
        staged += page.orders
    return staged, fetched


def _orders_without_items(conn: psycopg.Connection, run: RunKey) -> list[tuple[str, dict]]:
    return conn.execute(
        "SELECT amazon_order_id, raw FROM mip.stage_orders WHERE channel_id = %s AND run_id = %s AND source = 'api' "
        "AND changed AND NOT items_fetched ORDER BY last_update_date, amazon_order_id",
        (run.channel_id, run.run_id),
    ).fetchall()


def _fetch_order_items(conn: psycopg.Connection, gateway: SpApiGateway, run: RunKey, order_id: str, raw: dict) -> int:
    """getOrderItems (every page) of one order -> order_pages, stage_order_items; returns lines staged."""
    client = _orders_client(gateway, run.country)
    order = normalise.api_order(raw, run.channel_id, run.marketplace_id)
    seq = stage.next_seq(conn, run.channel_id, run.run_id, "items")
    lines: list[dict] = []
    request: dict = {}
    while True:
        items_page = partial(client.get_order_items, order_id, **request)
        response = gateway.call("getOrderItems", items_page, country=run.country)
        payload = response.payload or {}
        stage.save_page(conn, run, "items", seq, {"orderId": order_id, **request}, payload=payload)
        seq += 1
        lines.extend(payload.get("OrderItems", []))
        if not payload.get("NextToken"):
            break
        request = {"NextToken": payload["NextToken"]}
    staged = stage.stage_items(conn, run, normalise.api_items(order, lines))
    conn.execute(
        "UPDATE mip.stage_orders SET items_fetched = true WHERE channel_id = %s AND run_id = %s "
        "AND amazon_order_id = %s",
        (run.channel_id, run.run_id, order_id),
    )
    return staged


def fetch_items(conn: psycopg.Connection, gateway: SpApiGateway, run: RunKey) -> tuple[int, int]:
    """getOrderItems (every page) for the run's changed API orders whose items are not fetched yet.

    Commits every ``ITEMS_COMMIT_EVERY`` orders (an order's lines and its flag in one commit), so a
    retried task goes on where the previous attempt stopped. Returns (orders fetched, items staged).
    """
    fetched = items_staged = 0
    for order_id, raw in _orders_without_items(conn, run):
        items_staged += _fetch_order_items(conn, gateway, run, order_id, raw)
        fetched += 1
        if fetched % ITEMS_COMMIT_EVERY == 0:
            conn.commit()
    stage.analyze(conn)  # the gate joins the stage tables the planner may still believe empty
    return fetched, items_staged


def start(
    conn: psycopg.Connection, gateway: SpApiGateway, run: RunKey, window: Window, path: str, report_minutes: float
) -> dict:
    """The extract step: choose the path (``cheaper``, ``api`` or ``report``) and take it.

    ``cheaper`` reads the first getOrders page and estimates both paths' cost under the usage plans
    (mip.orders.cost): paging goes on from that page, items fetched alongside; the report path drops
    what the page staged (the report brings those orders with their lines) and requests the report.
    The interval's method and report id are recorded either way.
    """
    summary: dict = {}
    if path != "report":
        first = read_page(conn, gateway, run, window, None)
        if path == "cheaper":
            guess = cost.estimate(
                first.orders,
                first.next_token is not None,
                window.start,
                window.before,
                first.last_update,
                report_minutes,
            )
            summary["estimate"] = guess.describe()
            log.info("%s", summary["estimate"])
            path = guess.cheaper
        if path == "api":
            staged, fetched = page_orders(conn, gateway, run, window, first)
            intervals.update(conn, run.channel_id, run.run_id, method="api")
            unchanged = stage.mark_unchanged(conn, run.channel_id, run.run_id)
            return {**summary, "method": "api", "orders": staged, "unchanged": unchanged, "items_fetched": fetched}
        stage.clear_run(conn, run.channel_id, run.run_id, kinds=("orders",))
    report_id = request_report(gateway, run, window)
    intervals.update(conn, run.channel_id, run.run_id, method="report", report_id=report_id)
    return {**summary, "method": "report", "report_id": report_id}


def report_job(run: RunKey, window: Window | None = None) -> reports.ReportJob:
    """The run's orders report (``window`` when requesting it; polling and reading need no window)."""
    start, end = (window.start, window.before) if window else (None, None)
    return reports.ReportJob("orders report", normalise.REPORT_TYPE, run.country, (run.marketplace_id,), start, end)


def request_report(gateway: SpApiGateway, run: RunKey, window: Window) -> str:
    return report_job(run, window).request(gateway)


def load_report(conn: psycopg.Connection, run: RunKey, state: reports.ReportState, text: str) -> dict[str, int]:
    """A DONE report's text -> order_pages, its orders and items -> the stage tables."""
    stage.save_page(
        conn,
        run,
        "report",
        1,
        {"reportId": state.report_id, "reportDocumentId": state.document_id},
        body=text,
    )
    content = normalise.report_content(text, run.channel_id, run.channel.marketplace)
    orders = stage.stage_orders(conn, run, "report", content.orders)
    items = stage.stage_items(conn, run, content.items)
    conn.execute(
        "UPDATE mip.stage_orders SET items_fetched = true WHERE channel_id = %s AND run_id = %s",
        (run.channel_id, run.run_id),
    )
    if content.other_marketplaces:
        log.info("report rows of other marketplaces (imported by their own channels): %s", content.other_marketplaces)
    return {
        "rows": content.rows,
        "orders": orders,
        "items": items,
        "other_marketplace_rows": sum(content.other_marketplaces.values()),
    }


def replay(conn: psycopg.Connection, run: RunKey) -> dict[str, int]:
    """Rebuild the run's stage rows from its stored pages (no Amazon call), e.g. after a normalisation fix."""
    stage.clear_run(conn, run.channel_id, run.run_id, kinds=())
    pages = conn.execute(
        "SELECT kind, request, payload, body FROM mip.order_pages WHERE channel_id = %s AND run_id = %s "
        "ORDER BY kind, seq",
        (run.channel_id, run.run_id),
    ).fetchall()
    orders: dict[str, normalise.Order] = {}
    lines: dict[str, list[dict]] = {}
    report_orders = report_items = 0
    for kind, request, payload, body in pages:
        if kind == "orders":
            for raw in (payload or {}).get("Orders", []):
                order = normalise.api_order(raw, run.channel_id, run.marketplace_id)
                known = orders.get(order.amazon_order_id)
                # the same order on two pages: it changed while the run paged, the newer copy wins
                if known is None or order.last_update_date >= known.last_update_date:
                    orders[order.amazon_order_id] = order
        elif kind == "items":
            lines.setdefault(request["orderId"], []).extend((payload or {}).get("OrderItems", []))
        else:
            content = normalise.report_content(body, run.channel_id, run.channel.marketplace)
            report_orders += stage.stage_orders(conn, run, "report", content.orders)
            report_items += stage.stage_items(conn, run, content.items)
    stage.stage_orders(conn, run, "api", orders.values())
    items = [
        i
        for order_id, found in lines.items()
        if order_id in orders
        for i in normalise.api_items(orders[order_id], found)
    ]
    stage.stage_items(conn, run, items)
    conn.execute(
        "UPDATE mip.stage_orders s SET items_fetched = (s.source = 'report' OR EXISTS (SELECT 1 FROM "
        "mip.stage_order_items i WHERE i.channel_id = s.channel_id AND i.run_id = s.run_id "
        "AND i.amazon_order_id = s.amazon_order_id)) WHERE channel_id = %s AND run_id = %s",
        (run.channel_id, run.run_id),
    )
    return {"orders": len(orders) + report_orders, "items": len(items) + report_items}
