"""Benchmark of the SP-API sandbox: load, getOrders paging, simple request rate, a 25,000-message feed.

    .venv/bin/python bench/sandbox.py [--listings 100000] [--orders 50000] [--messages 25000] [--json FILE]

Starts its own sandbox (time scale 1,000,000 so usage plans and Amazon's processing delays do not
hide the server's own speed), loads the listings and orders, and prints figures. Nothing is
asserted: the numbers go to the README's benchmark table (``--json FILE`` also writes them as JSON,
which ``bench/run_all.py`` reads).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from stdnum import ean

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.testing import run_sandbox

DEMO, IT = "A1MIPDEMOSELLER", "APJ6JRA9NG5V4"


def ean13(body: int) -> str:
    digits = f"{body:012d}"
    return digits + ean.calc_check_digit(digits)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def token(sandbox) -> str:
    demo = sandbox.account("demo")
    return httpx.post(
        f"{sandbox.base_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": demo["refresh_token"],
            "client_id": demo["lwa_client_id"],
            "client_secret": demo["lwa_client_secret"],
        },
    ).json()["access_token"]


def load_listings(sandbox, count: int) -> float:
    started = time.perf_counter()
    chunk = 10_000
    for start in range(0, count, chunk):
        listings = [
            {
                "sku": f"BENCH-{n:06d}",
                "item_name": f"Prodotto di prova {n}",
                "brand": f"Brand{n % 300}",
                "gtin": ean13(400000000000 + n),
                "price": f"{5 + n % 200}.90",
                "quantity": n % 50,
                "fulfillment": "AFN" if n % 20 == 0 else "MFN",
                "product_type": "HOME",
                "source": "csv",
                "description": "Descrizione del prodotto.",
                "image": f"https://images.example/{n}.jpg",
            }
            for n in range(start, min(count, start + chunk))
        ]
        sandbox.admin("POST", "listings/seed", json={"seller_id": DEMO, "marketplace_id": IT, "listings": listings})
    return time.perf_counter() - started


def page_orders(http: httpx.Client, created_after: str) -> tuple[int, int, float]:
    pages = orders = 0
    params = {"MarketplaceIds": IT, "CreatedAfter": created_after, "MaxResultsPerPage": 100}
    started = time.perf_counter()
    while True:
        body = http.get("/orders/v0/orders", params=params).json()
        pages += 1
        orders += len(body["payload"]["Orders"])
        if "NextToken" not in body["payload"]:
            break
        params = {"MarketplaceIds": IT, "NextToken": body["payload"]["NextToken"]}
    return pages, orders, time.perf_counter() - started


def simple_rate(http: httpx.Client, order_id: str, seconds: float = 5.0) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        assert http.get(f"/orders/v0/orders/{order_id}").status_code == 200
        count += 1
    return count / (time.perf_counter() - started)


def feed(sandbox, http: httpx.Client, messages: int, probe_order: str) -> dict:
    document = {
        "header": {"sellerId": DEMO, "version": "2.0"},
        "messages": [
            {
                "messageId": n + 1,
                "sku": f"BENCH-{n:06d}",
                "operationType": "PATCH",
                "productType": "HOME",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/purchasable_offer",
                        "value": [
                            {
                                "marketplace_id": IT,
                                "currency": "EUR",
                                "audience": "ALL",
                                "our_price": [{"schedule": [{"value_with_tax": 9.99 + n % 100}]}],
                            }
                        ],
                    },
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
                    },
                ],
            }
            for n in range(messages)
        ],
    }
    content = json.dumps(document, separators=(",", ":")).encode()
    doc = http.post("/feeds/2021-06-30/documents", json={"contentType": "application/json; charset=UTF-8"}).json()
    httpx.put(doc["url"], content=content).raise_for_status()
    started = time.perf_counter()
    feed_id = http.post(
        "/feeds/2021-06-30/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [IT], "inputFeedDocumentId": doc["feedDocumentId"]},
    ).json()["feedId"]
    latencies = []
    while True:  # meanwhile, how quickly does the server answer other calls?
        t = time.perf_counter()
        http.get(f"/orders/v0/orders/{probe_order}")
        latencies.append(time.perf_counter() - t)
        status = http.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()["processingStatus"]
        if status in ("DONE", "FATAL"):
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    truth = next(f for f in sandbox.admin("GET", "feeds", params={"documents": "0"}) if f["feedId"] == feed_id)
    return {
        "status": status,
        "bytes": len(content),
        "wall": wall,
        "compute": truth["computeSeconds"],
        "accepted": truth["accepted"],
        "p50": statistics.median(latencies),
        "max": max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=25_000)
    parser.add_argument("--state", type=Path, help="keep the sandbox state in this (new) directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict = {"listings": args.listings, "orders": args.orders, "messages": args.messages}
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_sandbox(args.state or Path(tmp) / "spapi", time_scale=1e6) as sandbox,
    ):
        print(f"sandbox at {sandbox.base_url} (time scale 1e6: usage plans and Amazon delays out of the way)")
        seconds = load_listings(sandbox, args.listings)
        print(
            f"load {args.listings:,} listings (seed API, validation + ASIN assignment): {seconds:.1f} s "
            f"({args.listings / seconds:,.0f}/s)"
        )
        now = time.time()
        started = time.perf_counter()
        for start in range(0, args.orders, 10_000):
            sandbox.admin(
                "POST",
                "orders/generate",
                json={
                    "seller_id": DEMO,
                    "country": "IT",
                    "count": min(10_000, args.orders - start),
                    "start": now - 30 * 86400 + start * 40,
                    "end": now - 30 * 86400 + (start + 10_000) * 40,
                },
            )
        seconds = time.perf_counter() - started
        print(f"generate {args.orders:,} orders: {seconds:.1f} s ({args.orders / seconds:,.0f}/s)")

        http = httpx.Client(base_url=sandbox.base_url, headers={"x-amz-access-token": token(sandbox)}, timeout=120)
        created_after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 31 * 86400))
        pages, orders, seconds = page_orders(http, created_after)
        figures["get_orders"] = {
            "pages": pages,
            "orders": orders,
            "seconds": seconds,
            "pages_per_second": pages / seconds,
        }
        print(
            f"getOrders: {pages} pages of up to 100 ({orders:,} orders) in {seconds:.1f} s "
            f"= {pages / seconds:.0f} pages/s"
        )
        probe = http.get(
            "/orders/v0/orders", params={"MarketplaceIds": IT, "CreatedAfter": created_after, "MaxResultsPerPage": 1}
        ).json()["payload"]["Orders"][0]["AmazonOrderId"]
        print(f"getOrder, one client, sequential: {simple_rate(http, probe):.0f} requests/s")
        rates: list[float] = []

        def worker() -> None:
            with httpx.Client(base_url=sandbox.base_url, headers=http.headers, timeout=120) as own:
                rates.append(simple_rate(own, probe))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"getOrder, 4 concurrent clients: {sum(rates):.0f} requests/s in total")

        started = time.perf_counter()
        report_id = http.post(
            "/reports/2021-06-30/reports", json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [IT]}
        ).json()["reportId"]
        while (report := http.get(f"/reports/2021-06-30/reports/{report_id}").json())["processingStatus"] != "DONE":
            time.sleep(0.05)
        document = http.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
        size = len(httpx.get(document["url"]).content)
        print(
            f"GET_MERCHANT_LISTINGS_ALL_DATA over {args.listings:,} listings: {time.perf_counter() - started:.1f} s, "
            f"{size / 2**20:.1f} MiB {document.get('compressionAlgorithm', 'uncompressed')}"
        )
        for target in ("FR", "ES"):  # measure the feed itself, not the BIL copies it would trigger
            sandbox.admin("POST", f"accounts/{DEMO}/bil", json={"source": "IT", "target": target, "enabled": False})
        result = feed(sandbox, http, args.messages, probe)
        figures["feed"] = result
        print(
            f"{args.messages:,}-message feed ({result['bytes'] / 2**20:.1f} MiB, PATCH price+stock): "
            f"{result['status']}, "
            f"{result['accepted']:,} accepted; processing {result['compute']:.1f} s in the sandbox, "
            f"{result['wall']:.1f} s from createFeed to DONE"
        )
        print(
            f"  getOrder latency while the feed was processed: median {result['p50'] * 1000:.1f} ms, "
            f"max {result['max'] * 1000:.0f} ms"
        )
        print(
            f"sandbox peak memory (VmHWM): {peak_rss_mib(sandbox.process.pid):.0f} MiB; "
            f"state on disk: {(sandbox.state_dir / 'spapi.sqlite3').stat().st_size / 2**20:.0f} MiB"
        )
        http.close()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
