"""Order import benchmark: 10,000 orders from the sandbox both ways, and a 50,000-order upsert.

1. The sandbox (time scale ``--scale``, default 600: usage-plan rates 600 times Amazon's, and its
   ``x-amzn-RateLimit-Limit`` header says so, which the rate budget follows) generates ``--orders``
   Italian orders in a closed 1-day window of the past. The window is imported three times into an
   empty ``mip.orders`` with the DAG's own steps (mip.orders.importer): by paging getOrders plus one
   getOrderItems per order (items fetched while getOrders waits for its next page), by the orders
   report, and by the path the import chooses itself (``cheaper``: estimated from the first page).
   For each: API calls per operation (the sandbox's count); Amazon-bound time, the waits on the usage
   plans and on report processing, x scale = Amazon's clock, next to the floor Amazon's usage plans
   put under those calls; HTTP time to the local sandbox; local time (parsing, staging, gates,
   load). Neither of the last two is scaled: they are what this machine spends.
2. ``--upsert`` orders (default 50,000) with their lines, as the load step writes them
   (mip.store.bulk.bulk_upsert with newer_column), into empty tables, then again unchanged:
   rows per second (target >= 20,000).

    .venv/bin/python bench/orders.py [--orders 10000] [--scale 600] [--upsert 50000] [--json FILE]

``--json FILE`` also writes the figures as JSON (``bench/run_all.py`` reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# the benchmark's sandbox listens on 127.0.0.1: credentials may go there only where allowed (mip.amazon.endpoints)
os.environ.setdefault("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "True")
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from support import bench_database, peak_rss_mib, sandbox  # noqa: E402

DEMO = "A1MIPDEMOSELLER"
TABLES = "mip.orders, mip.order_items, mip.stage_orders, mip.stage_order_items, mip.order_pages, mip.order_intervals"
OPERATIONS = ("getOrders", "getOrderItems", "createReport", "getReport", "getReportDocument")


def generate(server, count: int, start: float, end: float) -> None:
    skus = [f"BENCH-ORD-{n:03d}" for n in range(40)]
    for offset in range(0, count, 2000):
        size = min(2000, count - offset)
        span = (end - start) / count
        server.admin(
            "POST",
            "orders/generate",
            json={
                "seller_id": DEMO,
                "country": "IT",
                "count": size,
                "skus": skus,
                "start": start + offset * span,
                "end": start + (offset + size) * span,
            },
        )


def gateway(server, url: str):
    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.airflow.setup import sandbox_connection_extra
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import SpApiGateway
    from mip.store.db import libpq_url

    credentials = credentials_from_extra("demo", sandbox_connection_extra(server.base_url, server.account("demo")))
    conn = psycopg.connect(libpq_url(url), autocommit=True)  # the budget's; closed by the caller
    conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = %s", (DEMO,))
    server.admin("POST", "reset-rate-limits")
    server.admin("POST", "reset-counters")
    return SpApiGateway(credentials, RateBudget(conn, DEMO))


def plan_floor(calls: dict[str, int]) -> float:
    """Seconds Amazon's usage plans need at least for these calls (burst first, then the rate).

    getOrders and getOrderItems run side by side (items are fetched while getOrders waits for its next
    page), so the paging path's floor is the slower of the two; the report's calls add up.
    """
    from mip.orders.cost import floor_seconds

    floors = {op: floor_seconds(op, n) for op, n in calls.items() if n}
    paging = max(floors.pop("getOrders", 0.0), floors.pop("getOrderItems", 0.0))
    return paging + sum(floors.values())


PATHS = {
    "api": "paging getOrders + getOrderItems",
    "report": "orders report",
    "cheaper": "path chosen by cost (first page)",
}


def import_every_way(url: str, count: int, scale: float) -> dict:
    from mip.config import parse_topology
    from mip.orders.importer import import_window
    from mip.orders.window import Window
    from mip.store.db import connect

    channel = parse_topology(
        "accounts: [{id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: c}]\n"
        "channels: [{id: it, account: demo, country: IT, role: main}]\n",
        "bench.yaml",
    ).channel("it")
    now = time.time()
    start, end = now - 30 * 3600, now - 6 * 3600  # statuses settle within 60 Amazon hours = 6 min at 600
    with sandbox(scale) as server:
        began = time.perf_counter()
        generate(server, count, start, end - 3600)
        print(f"sandbox: {count:,} orders generated in {time.perf_counter() - began:.1f} s (time scale {scale:g})")
        window = Window(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), datetime.fromtimestamp(end, UTC)
        )
        results, figures = {}, {}
        for path, label in PATHS.items():
            with connect(url) as conn:
                conn.execute(f"TRUNCATE {TABLES}")
                conn.commit()
                gw = gateway(server, url)
                began = time.perf_counter()
                result = import_window(
                    conn, gw, channel, f"bench-{path}", window, path=path, report_poll_seconds=30 / scale
                )
                wall = time.perf_counter() - began
                stored = conn.execute(
                    "SELECT (SELECT count(*) FROM mip.orders), (SELECT count(*) FROM mip.order_items)"
                ).fetchone()
                gw.budget.conn.close()
            calls = {op: server.admin("GET", "calls").get(op, {}).get("calls", 0) for op in OPERATIONS}
            throttled = sum(v.get("throttled", 0) for v in server.admin("GET", "calls").values())
            results[path] = stored
            print(f"\n{label}:" + (f" {result.method}" if path == "cheaper" else ""))
            print(f"  orders {stored[0]:,}, lines {stored[1]:,}, rejected {result.rejected}")
            print(
                "  API calls: "
                + ", ".join(f"{op} {n:,}" for op, n in calls.items() if n)
                + f" (total {sum(calls.values()):,}; 429 answers {throttled})"
            )
            amazon_hours = result.amazon_seconds * scale / 3600
            print(
                f"  wall time {wall:.1f} s: Amazon-bound {result.amazon_seconds:.1f} s = {amazon_hours:.2f} h on "
                f"Amazon's clock (x {scale:g}; usage plans' floor for these calls {plan_floor(calls) / 3600:.2f} h), "
                f"HTTP to the sandbox {result.request_seconds:.1f} s, local {result.local_seconds:.1f} s"
            )
            print("  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
            figures[path] = {
                "method": result.method,
                "orders": stored[0],
                "lines": stored[1],
                "calls": calls,
                "throttled": throttled,
                "wall_seconds": wall,
                "amazon_seconds": result.amazon_seconds,
                "request_seconds": result.request_seconds,
                "local_seconds": result.local_seconds,
                "usage_plan_hours": amazon_hours,
                "plan_floor_hours": plan_floor(calls) / 3600,
            }
        assert len(set(results.values())) == 1, f"every path must give the same rows: {results}"
        return {"orders": count, "scale": scale, **figures}


def synthetic(count: int, seed: int = 7):
    """Orders and lines shaped like the API path's (raw included), a realistic mix of sizes, as the load step
    writes them (mip.orders.load.LOADED_ORDER_COLUMNS / LOADED_ITEM_COLUMNS)."""
    from mip.orders.model import Item, Order

    rng = random.Random(seed)
    base = datetime(2026, 10, 1, tzinfo=UTC)
    orders, items = [], []
    for n in range(count):
        order_id = f"405-{n:07d}-{rng.randrange(10**7):07d}"
        purchase = base + timedelta(seconds=n * 37)
        updated = purchase + timedelta(hours=rng.randint(1, 30))
        lines = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        total = Decimal(0)
        for position in range(lines):
            price = Decimal(rng.randint(500, 15000)) / 100
            sku = f"SKU-{rng.randrange(5000):05d}"
            raw = {
                "ASIN": f"B0{rng.randrange(10**8):08d}",
                "SellerSKU": sku,
                "OrderItemId": f"{n:08d}{position:04d}",
                "QuantityOrdered": 1,
                "ItemPrice": {"CurrencyCode": "EUR", "Amount": str(price)},
            }
            item = Item(
                order_id,
                sku if position == 0 else f"{sku}-{position}",
                raw["OrderItemId"],
                "it",
                sku,
                raw["ASIN"],
                f"Prodotto {sku}",
                1,
                price,
                (price * 22 / 122).quantize(Decimal("0.01")),
                Decimal("0.00"),
                Decimal("0.00"),
                Decimal("0.00"),
                "EUR",
                updated,
                raw,
            ).row()
            items.append((DEMO, "demo", *item))  # the Seller ID and account read with (mip.orders.load)
            total += price
        raw_order = {
            "AmazonOrderId": order_id,
            "PurchaseDate": purchase.isoformat(),
            "LastUpdateDate": updated.isoformat(),
            "OrderStatus": "Shipped",
            "FulfillmentChannel": "MFN",
            "MarketplaceId": "APJ6JRA9NG5V4",
            "OrderTotal": {"CurrencyCode": "EUR", "Amount": str(total)},
            "ShippingAddress": {"City": "Milano", "PostalCode": "20121", "CountryCode": "IT"},
        }
        orders.append(
            (
                DEMO,
                "demo",
                *Order(
                    order_id, "it", "APJ6JRA9NG5V4", "Shipped", "MFN", purchase, updated, "EUR", total, raw_order
                ).row(),
            )
        )
    return orders, items


def upsert(url: str, count: int) -> dict:
    from mip.orders.load import upsert_orders
    from mip.store.db import connect

    orders, items = synthetic(count)
    rows = len(orders) + len(items)
    print(f"\nupsert: {len(orders):,} orders + {len(items):,} lines = {rows:,} rows")
    figures = {"orders": len(orders), "lines": len(items), "rows": rows, "target_rows_per_second": 20_000}
    with connect(url) as conn:
        conn.execute(f"TRUNCATE {TABLES}")
        conn.commit()
        for key, label in (("empty", "into empty tables"), ("unchanged", "again, unchanged")):
            began = time.perf_counter()
            order_result, item_result = upsert_orders(conn, orders, items)
            conn.commit()
            seconds = time.perf_counter() - began
            written = order_result.inserted + order_result.updated + item_result.inserted + item_result.updated
            print(f"  {label}: {seconds:.2f} s, {rows / seconds:,.0f} rows/s ({written:,} rows written)")
            figures[key] = {"seconds": seconds, "rows_per_second": rows / seconds, "written": written}
    return figures


def main() -> None:
    import logging

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=600.0)
    parser.add_argument("--upsert", type=int, default=50_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    url = bench_database()
    figures: dict = {}
    if not args.skip_import:
        figures["import"] = import_every_way(url, args.orders, args.scale)
    if args.upsert:
        figures["upsert"] = upsert(url, args.upsert)
    print(f"\npeak RSS {peak_rss_mib():.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({**figures, "peak_rss_mib": peak_rss_mib()}, indent=2))


if __name__ == "__main__":
    main()
