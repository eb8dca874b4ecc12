"""Load the run's accepted orders into ``mip.orders`` / ``mip.order_items`` (a newer LastUpdateDate wins).

Orders and lines are keyed by the Seller ID they were read with (and the AmazonOrderId): one
seller's order never overwrites another's. ``bulk_upsert`` with ``newer_column="last_update_date"``:
re-running any interval any number of times, in any order, gives the same rows and rewrites none
that did not change. The lines of a loaded order are its lines at that LastUpdateDate: lines an
older version had and the new one has not are deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from mip.orders.model import ITEM_COLUMNS, ORDER_COLUMNS
from mip.orders.stage import SELLER_COLUMNS
from mip.store.bulk import UpsertResult, bulk_upsert

LOADED_ORDER_COLUMNS = (*SELLER_COLUMNS, *ORDER_COLUMNS)
LOADED_ITEM_COLUMNS = (*SELLER_COLUMNS, *ITEM_COLUMNS)


def accepted(alias: str = "") -> str:
    """The run's orders to load: changed since the stored version and not rejected by the gate."""
    p = f"{alias}." if alias else ""
    return f"{p}channel_id = %s AND {p}run_id = %s AND {p}changed AND NOT {p}rejected"


@dataclass(frozen=True)
class LoadResult:
    orders: UpsertResult
    items: UpsertResult
    stale_items_deleted: int

    def as_dict(self) -> dict[str, int]:
        return {
            "orders_staged": self.orders.staged,
            "orders_inserted": self.orders.inserted,
            "orders_updated": self.orders.updated,
            "items_staged": self.items.staged,
            "items_inserted": self.items.inserted,
            "items_updated": self.items.updated,
            "stale_items_deleted": self.stale_items_deleted,
        }


def _rows(conn: psycopg.Connection, query: str, params: tuple) -> Iterator[tuple]:
    with conn.cursor(name="mip_orders_load") as cur:
        cur.itersize = 5000
        cur.execute(query, params)
        yield from cur


def upsert_orders(conn: psycopg.Connection, orders, items) -> tuple[UpsertResult, UpsertResult]:
    """Upsert order rows and item rows (tuples in LOADED_ORDER_COLUMNS / LOADED_ITEM_COLUMNS order)."""
    order_result = bulk_upsert(
        conn,
        "mip.orders",
        LOADED_ORDER_COLUMNS,
        orders,
        key=["seller_id", "amazon_order_id"],
        newer_column="last_update_date",
    )
    item_result = bulk_upsert(
        conn,
        "mip.order_items",
        LOADED_ITEM_COLUMNS,
        items,
        key=["seller_id", "amazon_order_id", "item_key"],
        newer_column="last_update_date",
        # the report path does not know OrderItemId: keep the one the API path stored
        update_columns=[c for c in LOADED_ITEM_COLUMNS if c != "order_item_id"],
    )
    return order_result, item_result


def load_run(conn: psycopg.Connection, channel_id: str, run_id: str) -> LoadResult:
    params = (channel_id, run_id)
    orders = list(
        _rows(conn, f"SELECT {', '.join(LOADED_ORDER_COLUMNS)} FROM mip.stage_orders WHERE {accepted()}", params)
    )
    items = list(
        _rows(
            conn,
            f"SELECT {', '.join('i.' + c for c in LOADED_ITEM_COLUMNS)} FROM mip.stage_order_items i "
            "JOIN mip.stage_orders o USING (channel_id, seller_id, run_id, amazon_order_id) "
            f"WHERE {accepted('o')}",
            params,
        )
    )
    order_result, item_result = upsert_orders(conn, orders, items)
    fill_order_item_ids(conn, channel_id, run_id)
    stale = conn.execute(
        "DELETE FROM mip.order_items i USING mip.orders o, mip.stage_orders s "
        "WHERE (o.seller_id, o.amazon_order_id) = (i.seller_id, i.amazon_order_id) "
        "AND i.last_update_date < o.last_update_date "
        f"AND (s.seller_id, s.amazon_order_id) = (o.seller_id, o.amazon_order_id) AND {accepted('s')}",
        params,
    ).rowcount
    return LoadResult(order_result, item_result, stale)


def fill_order_item_ids(conn: psycopg.Connection, channel_id: str, run_id: str) -> int:
    """Lines first loaded from a report get their OrderItemId once the API path sees them."""
    return conn.execute(
        "UPDATE mip.order_items t SET order_item_id = s.order_item_id FROM mip.stage_order_items s "
        "WHERE s.channel_id = %s AND s.run_id = %s AND s.order_item_id IS NOT NULL AND t.seller_id = s.seller_id "
        "AND t.amazon_order_id = s.amazon_order_id AND t.item_key = s.item_key AND t.order_item_id IS NULL",
        (channel_id, run_id),
    ).rowcount
