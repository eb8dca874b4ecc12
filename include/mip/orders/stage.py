"""The run's tables: raw pages (``mip.order_pages``) and normalised rows (``mip.stage_orders``/``_items``).

Every function takes the run's (channel_id, run_id), or the run itself where rows are written: each
row records the Seller ID and account the run reads with. A retried task starts by clearing what an
earlier attempt of the same step wrote, so re-running a step never duplicates its rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import psycopg

from mip.orders.model import ITEM_COLUMNS, ORDER_COLUMNS, Item, Order
from mip.store.bulk import bulk_upsert, copy_rows
from mip.store.db import one

if TYPE_CHECKING:
    from mip.runs import RunKey

# Raw pages and stage rows older than this are deleted when a run of the channel starts.
RETENTION_DAYS = 30
SELLER_COLUMNS = ("seller_id", "account_id")
STAGE_ORDER_COLUMNS = ("run_id", *SELLER_COLUMNS, "source", *ORDER_COLUMNS)
STAGE_ITEM_COLUMNS = ("run_id", *SELLER_COLUMNS, *ITEM_COLUMNS)


def prune(conn: psycopg.Connection, channel_id: str, days: int = RETENTION_DAYS) -> None:
    for table, column in (
        ("order_pages", "fetched_at"),
        ("stage_orders", "created_at"),
    ):
        conn.execute(
            f"DELETE FROM mip.{table} WHERE channel_id = %s AND {column} < now() - make_interval(days => %s)",
            (channel_id, days),
        )
    conn.execute(
        "DELETE FROM mip.stage_order_items i WHERE channel_id = %s AND NOT EXISTS (SELECT 1 FROM mip.stage_orders o"
        " WHERE o.channel_id = i.channel_id AND o.run_id = i.run_id AND o.amazon_order_id = i.amazon_order_id)",
        (channel_id,),
    )


def clear_run(conn: psycopg.Connection, channel_id: str, run_id: str, kinds: tuple[str, ...]) -> None:
    """Forget what an earlier attempt of this run wrote: pages of ``kinds``, and the stage rows."""
    conn.execute(
        "DELETE FROM mip.order_pages WHERE channel_id = %s AND run_id = %s AND kind = ANY(%s)",
        (channel_id, run_id, list(kinds)),
    )
    for table in ("stage_order_items", "stage_orders"):
        conn.execute(f"DELETE FROM mip.{table} WHERE channel_id = %s AND run_id = %s", (channel_id, run_id))


def save_page(
    conn: psycopg.Connection,
    run: RunKey,
    kind: str,
    seq: int,
    request: dict[str, Any],
    *,
    payload: Any = None,
    body: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO mip.order_pages (channel_id, seller_id, account_id, run_id, kind, seq, request, payload, body) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (channel_id, seller_id, run_id, kind, seq) DO UPDATE "
        "SET request = EXCLUDED.request, payload = EXCLUDED.payload, body = EXCLUDED.body, fetched_at = now()",
        (
            run.channel_id,
            run.seller_id,
            run.account_id,
            run.run_id,
            kind,
            seq,
            json.dumps(request, default=str),
            json.dumps(payload, default=str) if payload is not None else None,
            body,
        ),
    )


def next_seq(conn: psycopg.Connection, channel_id: str, run_id: str, kind: str) -> int:
    return one(
        conn.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM mip.order_pages WHERE channel_id = %s AND run_id = %s AND kind = %s",
            (channel_id, run_id, kind),
        )
    )[0]


def stage_orders(conn: psycopg.Connection, run: RunKey, source: str, orders: Iterable[Order]) -> int:
    """Stage normalised orders; returns how many orders are new to the run.

    An order seen twice in one run keeps its newest LastUpdateDate, whether both copies come in one
    call or on two pages: getOrders pages by LastUpdateDate, so an order Amazon changes while the
    run is paging moves past the cursor and is returned again on a later page.
    """
    rows = ((run.run_id, run.seller_id, run.account_id, source, *order.row()) for order in orders)
    result = bulk_upsert(
        conn,
        "mip.stage_orders",
        STAGE_ORDER_COLUMNS,
        rows,
        key=("channel_id", "seller_id", "run_id", "amazon_order_id"),
        newer_column="last_update_date",
    )
    return result.inserted


def stage_items(conn: psycopg.Connection, run: RunKey, items: Iterable[Item]) -> int:
    rows = ((run.run_id, run.seller_id, run.account_id, *i.row()) for i in items)
    return copy_rows(conn, "mip.stage_order_items", STAGE_ITEM_COLUMNS, rows)


def forget_stale_items(conn: psycopg.Connection, channel_id: str, run_id: str) -> int:
    """Lines staged for an older copy of an order the run has since seen newer: deleted, and the order
    marked for a new getOrderItems. Returns how many orders need their lines again."""
    stale = conn.execute(
        "DELETE FROM mip.stage_order_items i USING mip.stage_orders s WHERE s.channel_id = %s AND s.run_id = %s "
        "AND i.channel_id = s.channel_id AND i.run_id = s.run_id AND i.amazon_order_id = s.amazon_order_id "
        "AND i.last_update_date < s.last_update_date RETURNING i.amazon_order_id",
        (channel_id, run_id),
    ).fetchall()
    orders = sorted({row[0] for row in stale})
    if orders:
        conn.execute(
            "UPDATE mip.stage_orders SET items_fetched = false WHERE channel_id = %s AND run_id = %s "
            "AND amazon_order_id = ANY(%s)",
            (channel_id, run_id, orders),
        )
    return len(orders)


def analyze(conn: psycopg.Connection) -> None:
    """Fresh planner statistics after staging: a run adds thousands of rows to tables the planner may
    still believe empty, and a nested loop over both stage tables then takes minutes instead of ms."""
    conn.execute("ANALYZE mip.stage_orders, mip.stage_order_items")


def mark_unchanged(conn: psycopg.Connection, channel_id: str, run_id: str) -> int:
    """Orders mip.orders already holds (for the same seller) at this LastUpdateDate or a newer one need nothing
    more."""
    analyze(conn)
    return conn.execute(
        "UPDATE mip.stage_orders s SET changed = false FROM mip.orders o "
        "WHERE s.channel_id = %s AND s.run_id = %s AND (o.seller_id, o.amazon_order_id) = (s.seller_id, "
        "s.amazon_order_id) AND o.last_update_date >= s.last_update_date",
        (channel_id, run_id),
    ).rowcount


def counts(conn: psycopg.Connection, channel_id: str, run_id: str) -> dict[str, int]:
    seen, changed, rejected = one(
        conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE changed), count(*) FILTER (WHERE changed AND rejected) "
            "FROM mip.stage_orders WHERE channel_id = %s AND run_id = %s",
            (channel_id, run_id),
        )
    )
    return {"orders_seen": seen, "orders_changed": changed, "rejected": rejected}
