"""The mip schema's migrations and the bulk upsert, on a real PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from mip.store import migrate
from mip.store.bulk import bulk_upsert
from mip.store.server import drop_database, ensure_database

FOUNDATION_TABLES = {
    "channel_registry",
    "channel_registry_audit",
    "supplier_products",
    "rejected_rows",
    "quality_results",
    "listings",
    "feed_submissions",
    "orders",
    "order_items",
    "migration_plans",
    "account_health",
}


def tables(conn) -> set[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'mip'").fetchall()
    return {r[0] for r in rows}


def test_migrations_upgrade_downgrade_and_upgrade_again(mip_url):
    from mip.store.db import connect

    scratch = ensure_database(mip_url, "mip_migration_roundtrip")
    try:
        migrate.upgrade(scratch)
        with connect(scratch) as conn:
            assert tables(conn) >= FOUNDATION_TABLES
        migrate.downgrade(scratch, "base")
        with connect(scratch) as conn:
            assert tables(conn) == {"alembic_version"}
        migrate.upgrade(scratch)
        migrate.upgrade(scratch)  # a second upgrade is a no-op
        with connect(scratch) as conn:
            assert tables(conn) >= FOUNDATION_TABLES
    finally:
        drop_database(mip_url, "mip_migration_roundtrip")


ORDER_COLUMNS = [
    "seller_id",
    "account_id",
    "amazon_order_id",
    "channel_id",
    "marketplace_id",
    "order_status",
    "purchase_date",
    "last_update_date",
    "currency",
    "order_total",
    "raw",
]


def order(order_id: str, status: str, updated: str, total: str = "10.00") -> tuple:
    return (
        "A1MIPDEMOSELLER",
        "demo",
        order_id,
        "it",
        "APJ6JRA9NG5V4",
        status,
        "2026-11-01T10:00:00Z",
        updated,
        "EUR",
        total,
        {"AmazonOrderId": order_id, "OrderStatus": status},
    )


@pytest.fixture
def empty_orders(db):
    db.execute("TRUNCATE mip.orders")
    return db


def upsert_orders(conn, rows):
    return bulk_upsert(
        conn, "mip.orders", ORDER_COLUMNS, rows, key=["seller_id", "amazon_order_id"], newer_column="last_update_date"
    )


def test_bulk_upsert_inserts_then_rerun_changes_nothing(empty_orders):
    rows = [order(f"171-{i:07d}", "Pending", "2026-11-01T10:05:00Z") for i in range(500)]
    first = upsert_orders(empty_orders, rows)
    assert (first.staged, first.inserted, first.updated) == (500, 500, 0)
    xmin_before = empty_orders.execute("SELECT sum(xmin::text::bigint) FROM mip.orders").fetchone()[0]
    again = upsert_orders(empty_orders, rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 500)
    xmin_after = empty_orders.execute("SELECT sum(xmin::text::bigint) FROM mip.orders").fetchone()[0]
    assert xmin_after == xmin_before, "a re-run must not rewrite rows"


def test_bulk_upsert_newer_row_wins_and_older_never_regresses(empty_orders):
    upsert_orders(empty_orders, [order("A", "Unshipped", "2026-11-01T11:00:00Z")])
    older = upsert_orders(empty_orders, [order("A", "Pending", "2026-11-01T10:00:00Z")])
    assert older.updated == 0
    newer = upsert_orders(empty_orders, [order("A", "Shipped", "2026-11-01T12:00:00Z")])
    assert newer.updated == 1
    status, raw = empty_orders.execute("SELECT order_status, raw FROM mip.orders").fetchone()
    assert status == "Shipped" and raw["OrderStatus"] == "Shipped"


def test_bulk_upsert_duplicate_keys_in_one_batch_keep_the_newest(empty_orders):
    result = upsert_orders(
        empty_orders,
        [order("B", "Shipped", "2026-11-01T12:00:00Z"), order("B", "Pending", "2026-11-01T10:00:00Z")],
    )
    assert (result.staged, result.inserted) == (2, 1)
    assert empty_orders.execute("SELECT order_status FROM mip.orders").fetchone()[0] == "Shipped"


def test_bulk_upsert_from_a_dataframe_keeps_nulls_empty_strings_and_json(empty_orders):
    frame = pd.DataFrame.from_records(
        [order("C", "Pending", "2026-11-01T10:00:00Z"), order("D", "Canceled", "2026-11-01T10:00:00Z", None)],
        columns=ORDER_COLUMNS,
    )
    frame.loc[0, "currency"] = ""
    result = upsert_orders(empty_orders, frame)
    assert result.inserted == 2
    rows = empty_orders.execute(
        "SELECT amazon_order_id, currency, order_total, raw->>'OrderStatus' FROM mip.orders ORDER BY 1"
    ).fetchall()
    assert rows[0][1] == "" and rows[1][2] is None and rows[1][3] == "Canceled"
    assert upsert_orders(empty_orders, frame).unchanged == 2


def test_bulk_upsert_update_columns_leave_others_alone(db):
    db.execute("TRUNCATE mip.listings")
    columns = ["channel_id", "sku", "marketplace_id", "status", "price"]
    bulk_upsert(db, "mip.listings", columns, [("it", "S1", "M", "SUBMITTED", 10)], key=["channel_id", "sku"])
    bulk_upsert(
        db,
        "mip.listings",
        columns,
        [("it", "S1", "M", "ACCEPTED", 99)],
        key=["channel_id", "sku"],
        update_columns=["status"],
    )
    assert db.execute("SELECT status, price FROM mip.listings").fetchone() == ("ACCEPTED", 10)
