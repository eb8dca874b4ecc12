"""The shared rate budget under concurrency: 4 processes of one account calling getOrderItems.

Against the sandbox at Amazon's real usage plan (getOrderItems: 0.5 requests/s, burst 30) sped up
by the sandbox's time scale; the budget learns the effective rate from ``x-amzn-RateLimit-Limit``.
Prints the 429 responses the sandbox counted and the wall time against the minimum the usage plan
allows, (calls - burst) / rate. Target: 0 responses 429, time ratio <= 1.10.

    .venv/bin/python bench/rate_budget.py [--calls 1200] [--workers 4] [--time-scale 60] [--json FILE]

``--json FILE`` also writes the figures as JSON (``bench/run_all.py`` reads them).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import bench_database, sandbox

# the benchmark's sandbox listens on 127.0.0.1: credentials may go there only where allowed (mip.amazon.endpoints)
os.environ.setdefault("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "True")

OPERATION = "getOrderItems"


def worker(url: str, sandbox_url: str, account: dict, order_ids: list[str], ready, start, done) -> None:
    from sp_api.api import Orders

    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.airflow.setup import sandbox_connection_extra
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import SpApiGateway
    from mip.store.db import connect

    credentials = credentials_from_extra("demo", sandbox_connection_extra(sandbox_url, account))
    with connect(url, autocommit=True) as conn:
        gateway = SpApiGateway(credentials, RateBudget(conn, credentials.seller_id))
        client = gateway.client(Orders, "IT")
        client.get_order_items  # noqa: B018 - import the operation's code before the clock starts
        ready.put(True)
        start.wait()
        for order_id in order_ids:
            gateway.call(OPERATION, lambda o=order_id: client.get_order_items(o), country="IT")
        done.put((time.monotonic(), gateway.retries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    url = bench_database()
    with sandbox(args.time_scale) as running:
        account = running.account("demo")
        now = datetime.now(UTC)
        generated = running.admin(
            "POST",
            "orders/generate",
            json={
                "seller_id": account["seller_id"],
                "country": "IT",
                "count": args.calls,
                "start": (now - timedelta(days=3)).isoformat(),
                "end": (now - timedelta(days=1)).isoformat(),
                "skus": [f"BENCH-{i:03d}" for i in range(50)],
            },
        )
        order_ids = list(generated["amazon_order_ids"])
        from mip.store.db import connect

        with connect(url) as conn:
            conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = %s", (account["seller_id"],))
        running.admin("POST", "reset-rate-limits")
        running.admin("POST", "reset-counters")

        context = multiprocessing.get_context("spawn")
        ready, start, done = context.Queue(), context.Event(), context.Queue()
        shares = [order_ids[i :: args.workers] for i in range(args.workers)]
        processes = [
            context.Process(target=worker, args=(url, running.base_url, account, share, ready, start, done))
            for share in shares
        ]
        for process in processes:
            process.start()
        for _ in processes:  # the clock starts once every worker has imported its modules and waits
            ready.get(timeout=300)
        started = time.monotonic()
        start.set()
        results = [done.get(timeout=3600) for _ in processes]
        for process in processes:
            process.join()
        elapsed = max(finished for finished, _ in results) - started
        calls = running.admin("GET", "calls")

    stats = calls[OPERATION]
    rate = 0.5 * args.time_scale
    minimum = (args.calls - 30) / rate
    print(
        f"rate budget: {args.workers} concurrent tasks, {args.calls} {OPERATION} calls at the usage plan "
        f"(0.5/s, burst 30) x time scale {args.time_scale:g}"
    )
    print(f"  responses 429: {stats['throttled']}   (target 0)")
    print(
        f"  wall time {elapsed:.2f} s, usage-plan minimum {minimum:.2f} s, ratio {elapsed / minimum:.3f}"
        f"   (target <= 1.10)"
    )
    print(f"  retries in the gateways: {sum(r for _, r in results)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "calls": args.calls,
                    "time_scale": args.time_scale,
                    "operation": OPERATION,
                    "throttled": stats["throttled"],
                    "seconds": elapsed,
                    "minimum_seconds": minimum,
                    "ratio": elapsed / minimum,
                    "retries": sum(r for _, r in results),
                    "target_throttled": 0,
                    "target_ratio": 1.10,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
