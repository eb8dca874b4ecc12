"""Order latency inside a running ``make up``: how soon an order the sandbox creates is a row in mip.orders.

Not part of ``make bench`` (it needs the demo running): start ``make up``, wait for its "Order events on"
line, then in a second terminal

    .venv/bin/python bench/up_latency.py [--orders 20] [--every 6] [--mip-url URL] [--json FILE]

It unpauses ``mip_order_events__demo`` through the Airflow REST API and waits for a first (warm-up) order
to arrive: the triggerer starts the DAG's queue watcher only once the unpaused DAG is processed again,
about a minute and a half after unpausing on the 2-core machine, and orders created before then wait in
the queue. Then it creates
``--orders`` orders in Italy one at a time, ``--every`` real seconds apart, through the sandbox's admin API
(as ``bench/order_latency.py`` does), and polls mip.orders for each. The hourly ``mip_orders__it`` stays
as it is: an order it imported first would show an hour's latency, so the figure is the event path's.
Latency runs from the moment the script asks the sandbox for the order to the order's row, times the
sandbox's time scale (read from ``/_sandbox/info``), so it is in Amazon minutes: the target is 2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = "A1MIPDEMOSELLER"  # the demo seller of the sandbox (sandbox/README.md)
EVENTS_DAG = "mip_order_events__demo"


def airflow_client(url: str, user: str, password: str) -> httpx.Client:
    token = httpx.post(f"{url}/auth/token", json={"username": user, "password": password}, timeout=30)
    token.raise_for_status()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=60)


def imported_at(conn, pending: dict[str, float]) -> dict[str, float]:
    """The pending orders mip.orders holds now, with the moment this script saw them."""
    rows = conn.execute("SELECT amazon_order_id FROM mip.orders WHERE amazon_order_id = ANY(%s)", (list(pending),))
    seen = time.time()
    return {order_id: seen for (order_id,) in rows.fetchall()}


def create_order(sandbox: httpx.Client) -> list[str]:
    asked = time.time()
    body = {"seller_id": DEMO, "country": "IT", "count": 1, "start": asked - 0.001, "end": asked}
    return sandbox.post("/_sandbox/orders/generate", json=body).json()["amazon_order_ids"]


def arrived_within(conn, order_id: str, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if imported_at(conn, {order_id: 0.0}):
            return True
        time.sleep(0.5)  # polling the database, not synchronising a test
    return False


def measure(conn, sandbox: httpx.Client, orders: int, every: float, timeout: float):
    """(created, arrived): each order's creation and arrival moments (time.time())."""
    created: dict[str, float] = {}
    arrived: dict[str, float] = {}
    deadline = time.time() + timeout + orders * every
    next_order = time.time()
    shown = (0, 0)
    while len(arrived) < orders and time.time() < deadline:
        if len(created) < orders and time.time() >= next_order:
            asked = time.time()
            [order_id] = create_order(sandbox)
            created[order_id] = asked
            next_order = asked + every
        arrived |= imported_at(conn, {o: t for o, t in created.items() if o not in arrived})
        if (len(created), len(arrived)) != shown:
            shown = (len(created), len(arrived))
            print(f"{shown[0]} created, {shown[1]} in mip.orders", flush=True)
        time.sleep(0.2)  # polling the database, not synchronising a test
    return created, arrived


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--every", type=float, default=6.0, help="real seconds between two orders")
    parser.add_argument("--sandbox", default=f"http://127.0.0.1:{os.environ.get('MIP_SANDBOX_PORT', '8100')}")
    parser.add_argument("--airflow", default=f"http://127.0.0.1:{os.environ.get('MIP_AIRFLOW_PORT', '8080')}")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default=os.environ.get("MIP_ADMIN_PASSWORD", "admin"))
    # make up prints the URL ("mip database (schema mip): psql '...'"); with no database configured it is the
    # embedded server's, on port 54329 when that was free
    parser.add_argument(
        "--mip-url", default=os.environ.get("MIP_DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/mip")
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="real seconds to wait for the last order")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    import psycopg

    sandbox = httpx.Client(base_url=args.sandbox, timeout=60)
    scale = float(sandbox.get("/_sandbox/info").json()["time_scale"])
    airflow = airflow_client(args.airflow, args.user, args.password)
    airflow.patch(f"/api/v2/dags/{EVENTS_DAG}", json={"is_paused": False}).raise_for_status()
    print(f"{EVENTS_DAG} unpaused; sandbox time scale {scale:g}; {args.orders} orders, one every {args.every:g} s")
    with psycopg.connect(args.mip_url, autocommit=True) as conn:
        started = time.time()
        [warm_up] = create_order(sandbox)
        if not arrived_within(conn, warm_up, args.timeout):
            print(f"the warm-up order {warm_up} did not reach mip.orders in {args.timeout:g} s: is the triggerer up?")
            return 1
        print(f"the queue watcher is live: the warm-up order arrived {time.time() - started:.0f} s after unpausing")
        created, arrived = measure(conn, sandbox, args.orders, args.every, args.timeout)
    minutes = sorted((arrived[o] - created[o]) * scale / 60 for o in arrived)
    missing = sorted(set(created) - set(arrived))
    if not minutes:
        print("no order reached mip.orders: is the triggerer running and the account subscribed?")
        return 1
    figures = {
        "orders": len(created),
        "imported": len(minutes),
        "missing": missing,
        "time_scale": scale,
        "latency_amazon_minutes": {
            "p50": statistics.median(minutes),
            "p95": minutes[min(len(minutes) - 1, round(0.95 * (len(minutes) - 1)))],
            "max": minutes[-1],
        },
    }
    latency = figures["latency_amazon_minutes"]
    print(
        f"make up, events: {len(minutes)}/{len(created)} orders in mip.orders; latency p50 {latency['p50']:.2f} / "
        f"p95 {latency['p95']:.2f} / max {latency['max']:.2f} Amazon min (target: 2); missing {len(missing)}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if not missing and latency["max"] <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
