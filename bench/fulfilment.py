"""Fulfilment benchmark: 10,000 orders through the loop against both stand-ins.

The SP-API sandbox (time scale ``--scale``, default 600, ``--ship-on-confirmation``) generates
``--orders`` Italian orders of the past day; the order import (API path) loads them. Then the loop's
own steps run once each: gate, send (one createRestrictedDataToken per 50 orders, one getOrderAddress per
order, supplier check + create), the supplier ships (``POST /_supplier/ship``), track, confirm
(confirmShipment through the gateway and its rate budget). Figures: supplier calls and SP-API calls per
order, 429 answers (target 0), Amazon-bound time of send and confirm on Amazon's clock (x scale) against
the floor Amazon's usage plans put under those calls, and the truths: orders sent twice, lost, confirmed
twice (target 0 each).

    .venv/bin/python bench/fulfilment.py [--orders 10000] [--scale 600] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "True")
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from orders import DEMO, TABLES, gateway  # noqa: E402
from orders import generate as generate_orders  # noqa: E402
from support import bench_database, peak_rss_mib, sandbox  # noqa: E402

SP_OPERATIONS = ("createRestrictedDataToken", "getOrderAddress", "getOrder", "confirmShipment")


def load_orders(url: str, server, count: int, scale: float):
    from mip.config import load_topology
    from mip.orders.importer import import_window
    from mip.orders.window import Window
    from mip.store.db import connect

    now = time.time()
    start, end = now - 26 * 3600, now - 2 * 3600
    generate_orders(server, count, start, end - 3600)
    with connect(url) as conn:
        conn.execute(f"TRUNCATE {TABLES}, mip.fulfilment_orders, mip.fulfilment_events")
        conn.execute("DELETE FROM mip.listings WHERE channel_id = 'it'")
        for n in range(40):
            conn.execute(
                "INSERT INTO mip.listings (channel_id, sku, marketplace_id, reference, status)"
                " VALUES ('it', %s, 'APJ6JRA9NG5V4', %s, 'ACCEPTED')",
                (f"BENCH-ORD-{n:03d}", f"S{n:07d}"),
            )
        gw = gateway(server, url)
        window = Window(_utc(start), _utc(end), _utc(end))
        import_window(conn, gw, load_topology().channel("it"), "bench-import", window, path="api")
        conn.commit()
        gw.budget.conn.close()


def _utc(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def floor_hours(calls: dict[str, int]) -> float:
    from mip.orders.cost import floor_seconds

    return sum(floor_seconds(op, n) for op, n in calls.items() if n) / 3600


def run_loop(url: str, server, supplier, scale: float) -> dict:
    from mip.config import load_topology
    from mip.fulfilment.confirm import confirm
    from mip.fulfilment.gate import gate
    from mip.fulfilment.send import send
    from mip.fulfilment.supplier import SupplierClient
    from mip.fulfilment.track import track
    from mip.runs import RunKey
    from mip.store.db import connect

    key = RunKey(load_topology().channel("it"), "bench-fulfil", "mip_fulfil__it", "bench", DEMO)
    client = SupplierClient(supplier.base_url, supplier.api_key)
    seconds, amazon = {}, {}
    with connect(url) as conn:
        gw = gateway(server, url)  # counters and rate limits reset after the import
        began = time.perf_counter()
        gated = gate(key, conn)
        conn.commit()
        seconds["gate"] = time.perf_counter() - began
        for name, step in (("send", lambda: send(key, conn, gw, supplier=client)), ("confirm", None)):
            if name == "confirm":
                supplier.admin("POST", "ship")
                began = time.perf_counter()
                track(key, conn, supplier=client)
                seconds["track"] = time.perf_counter() - began
                step = lambda: confirm(key, conn, gw)  # noqa: E731
            before = gw.waited_seconds + gw.request_seconds
            began = time.perf_counter()
            step()
            conn.commit()
            seconds[name] = time.perf_counter() - began
            amazon[name] = gw.waited_seconds + gw.request_seconds - before
        states = dict(conn.execute("SELECT state, count(*) FROM mip.fulfilment_orders GROUP BY 1").fetchall())
        gw.budget.conn.close()
    stats = server.admin("GET", "calls")
    calls = {op: stats.get(op, {}).get("calls", 0) for op in SP_OPERATIONS}
    throttled = sum(v.get("throttled", 0) for v in stats.values())
    return {
        "gated": gated,
        "states": states,
        "seconds": seconds,
        "amazon_seconds": amazon,
        "sp_calls": calls,
        "supplier_calls": dict(client.calls),
        "throttled": throttled,
        "usage_plan_hours": sum(amazon.values()) * scale / 3600,
        "plan_floor_hours": floor_hours(calls),
    }


def truths(server, supplier, url: str) -> dict:
    from mip.store.db import connect

    orders = supplier.truth()["orders"]
    references = [o["reference"] for o in orders]
    shipments = server.admin("GET", "/_sandbox/shipments")
    confirmed = [s["amazonOrderId"] for s in shipments]
    tracking = {o["reference"]: o["trackingNumber"] for o in orders}
    with connect(url) as conn:
        waiting = conn.execute(
            "SELECT count(*) FROM mip.fulfilment_orders WHERE state NOT IN ('confirmed', 'cancelled', 'refused')"
        ).fetchone()[0]
    return {
        "supplier_orders": len(orders),
        "sent_twice": len(references) - len(set(references)),
        "confirmed_twice": len(confirmed) - len(set(confirmed)),
        "wrong_tracking": sum(1 for s in shipments if tracking.get(s["amazonOrderId"]) != s["trackingNumber"]),
        "lost": waiting,
        "confirmed": len(set(confirmed)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=600.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    from sandbox.supplier.testing import run_supplier

    url = bench_database()
    with (
        sandbox(args.scale, extra_args=["--ship-on-confirmation"]) as server,
        tempfile.TemporaryDirectory(prefix="mip-bench-supplier-") as state,
        run_supplier(state, time_scale=args.scale, extra_args=["--balance", "100000000"]) as supplier,
    ):
        began = time.perf_counter()
        load_orders(url, server, args.orders, args.scale)
        print(f"{args.orders:,} orders generated and imported in {time.perf_counter() - began:.1f} s")
        loop = run_loop(url, server, supplier, args.scale)
        truth = truths(server, supplier, url)
    sent = max(truth["supplier_orders"], 1)
    figures = {
        "orders": args.orders,
        "scale": args.scale,
        **loop,
        "truth": truth,
        "supplier_calls_per_order": sum(loop["supplier_calls"].values()) / sent,
        "sp_calls_per_order": {op: n / sent for op, n in loop["sp_calls"].items()},
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
