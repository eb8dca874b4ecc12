"""Order import tests: sandboxes of their own (they generate orders, revoke tokens), gateways, helpers."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest

from mip.orders.model import ITEM_COLUMNS, ORDER_COLUMNS

with contextlib.suppress(ImportError):
    from tests.dags.conftest import dagbag, run_dag  # noqa: F401

DEMO = "A1MIPDEMOSELLER"
SKUS = ["MIP-ORD-A", "MIP-ORD-B", "MIP-ORD-C", "MIP-ORD-D", "MIP-ORD-E"]
ORDER_TABLES = (
    "mip.orders, mip.order_items, mip.stage_orders, mip.stage_order_items, mip.order_pages, mip.order_intervals"
)
# the model's columns both import paths must agree on (raw and order_item_id aside)
COMPARED_ORDER = tuple(c for c in ORDER_COLUMNS if c != "raw")
COMPARED_ITEM = tuple(c for c in ITEM_COLUMNS if c not in ("raw", "order_item_id"))


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def generate(sandbox, count: int, start: float, end: float, country: str = "IT", **extra: Any) -> list[str]:
    body = {"seller_id": DEMO, "country": country, "count": count, "start": start, "end": end, "skus": SKUS, **extra}
    return sandbox.admin("POST", "orders/generate", json=body)["amazon_order_ids"]


def truth(sandbox, country: str = "IT") -> dict[str, dict]:
    """The sandbox's orders of the demo seller in a country (with their OrderItems), by id."""
    return {
        o["AmazonOrderId"]: o for o in sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": country})
    }


def stored_orders(db, channel_id: str) -> dict[str, dict]:
    with db.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COMPARED_ORDER)} FROM mip.orders WHERE channel_id = %s", (channel_id,))
        return {row[0]: dict(zip(COMPARED_ORDER, row, strict=True)) for row in cur.fetchall()}


def stored_items(db, channel_id: str) -> dict[tuple[str, str], dict]:
    with db.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(COMPARED_ITEM)}, order_item_id FROM mip.order_items WHERE channel_id = %s",
            (channel_id,),
        )
        return {(r[0], r[1]): dict(zip((*COMPARED_ITEM, "order_item_id"), r, strict=True)) for r in cur.fetchall()}


def assert_matches_truth(db, sandbox, channel_id: str, country: str, ids: set[str] | None = None) -> int:
    """mip.orders / mip.order_items hold exactly the sandbox's orders (status, dates, money, lines)."""
    from decimal import Decimal

    expected = truth(sandbox, country)
    if ids is not None:
        expected = {k: v for k, v in expected.items() if k in ids}
    stored = stored_orders(db, channel_id)
    if ids is not None:
        stored = {k: v for k, v in stored.items() if k in ids}
    assert sorted(stored) == sorted(expected), (
        f"missing {sorted(set(expected) - set(stored))[:5]}, unexpected {sorted(set(stored) - set(expected))[:5]}"
    )
    items = stored_items(db, channel_id)
    for order_id, order in expected.items():
        row = stored[order_id]
        assert row["order_status"] == order["OrderStatus"], order_id
        assert row["last_update_date"] == datetime.fromisoformat(order["LastUpdateDate"].replace("Z", "+00:00"))
        total = order.get("OrderTotal")
        assert row["order_total"] == (Decimal(total["Amount"]) if total else None), order_id
        lines = {k: v for k, v in items.items() if k[0] == order_id}
        truth_ids = {i["OrderItemId"] for i in order["OrderItems"]}
        assert all(v["order_item_id"] in truth_ids for v in lines.values() if v["order_item_id"]), order_id
        assert sorted((v["sku"], v["quantity"]) for v in lines.values()) == sorted(
            (i["SellerSKU"], i["QuantityOrdered"]) for i in order["OrderItems"]
        ), order_id
    return len(expected)


@pytest.fixture
def clean_orders(db):
    db.execute(f"TRUNCATE {ORDER_TABLES}")
    db.execute("DELETE FROM mip.rejected_rows WHERE source LIKE 'orders:%'")
    db.execute("DELETE FROM mip.quality_results WHERE suite = 'orders'")
    db.execute("DELETE FROM mip.account_credentials_history")  # Seller ID switches decide who owns an hour
    db.commit()
    return db


@pytest.fixture
def gateway_for(mip_url):
    """Gateways built like the tasks build them (rate budget in mip.rate_budget), pointed at a sandbox."""
    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.airflow.setup import sandbox_connection_extra
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import RetryPolicy, SpApiGateway
    from mip.store.db import connect

    contexts = []

    def make(sandbox, policy: RetryPolicy | None = None) -> SpApiGateway:
        from sandbox.testing import forget_access_tokens

        forget_access_tokens()
        credentials = credentials_from_extra(
            "demo", sandbox_connection_extra(sandbox.base_url, sandbox.account("demo"))
        )
        context = connect(mip_url, autocommit=True)
        contexts.append(context)
        conn = context.__enter__()
        conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = %s", (credentials.seller_id,))
        sandbox.admin("POST", "reset-rate-limits")
        return SpApiGateway(
            credentials,
            RateBudget(conn, credentials.seller_id),
            policy or RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5, max_elapsed=60),
        )

    yield make
    for context in contexts:
        context.__exit__(None, None, None)
