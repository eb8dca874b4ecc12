"""Publishing benchmark: 200,000 catalog products through select -> gate -> price -> gate -> plan.

Prints, per step, the wall time and the peak resident memory of this process (sampled every 5 ms),
then a second run after changing about 1% of the products (costs, stock, a title, removals), and
the number of createFeed calls (JSON_LISTINGS_FEED documents: <= 25,000 messages, < 10 MiB)
needed for the first run's plan versus one putListingsItem call per SKU. Targets: select ->
plan under 60 s and 2 GiB in total.

The catalog comes from the sandbox's generator (``sandbox.catalog.generate``), loaded straight into
``mip.supplier_products`` with COPY (the catalog ingest is benchmarked by bench/catalog.py). It runs
in a scratch database on ``MIP_BENCH_SERVER`` (default: the PostgreSQL on 127.0.0.1:5432 when it
answers, else the embedded one under ``.local/bench-postgres``), dropped at the end.

    .venv/bin/python bench/publish.py [--count 200000] [--changed 0.01] [--keep] [--json FILE]

``--json FILE`` also writes the figures as JSON (``bench/run_all.py`` reads them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432"
BENCH_TOPOLOGY = """
accounts:
  - {id: bench, seller_id: A1MIPBENCHSELLER, region: eu, connection_id: amazon_sp_api_bench}
channels:
  - id: it
    account: bench
    country: IT
    role: main
    publish:
      selection: {min_stock: 0}        # the whole catalog: 200,000 SKUs
      fallback_languages: [en]         # products without an Italian title go out in English
      pricing:
        rules:
          - {id: small-items, when: {price: {basis: cost, max: 10}}, strategy: fixed_markup, amount: 5}
          - {id: electronics, when: {categories: ["Electronics"]}, strategy: profit_on_price, percent: 20}
        default: {strategy: margin_on_cost, percent: 30}
        category_referral_fees: [{categories: ["Electronics"], percent: 8}]
        vat_class_percent: {reduced: 10, super_reduced: 4}
        min_margin_percent: 12
        rounding: {ending: 0.99}
      handling_days: 3
"""
SUPPLIER_COLUMNS = (
    "reference",
    "ean",
    "brand",
    "category_path",
    "names",
    "descriptions",
    "images",
    "cost_price",
    "retail_price",
    "vat_class",
    "stock",
    "weight_kg",
    "content_hash",
    "catalog_version",
)


@dataclass
class Measure:
    seconds: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds (PostgreSQL's work is not in it)
    peak_rss: int = 0


@contextmanager
def measured() -> Iterator[Measure]:
    """Wall time and peak RSS of this process while the block runs."""
    import psutil

    process = psutil.Process()
    result = Measure(peak_rss=process.memory_info().rss)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            result.peak_rss = max(result.peak_rss, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start
        result.cpu = time.process_time() - cpu
        done.set()
        sampler.join()
        result.peak_rss = max(result.peak_rss, process.memory_info().rss)


def supplier_rows(count: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Good products of a generated catalog as mip.supplier_products rows (what the ingest loads)."""
    from sandbox.catalog import generate

    for p in generate(count, seed=seed, bad_rows=False).products:
        names = {k: v for k, v in p.names.items() if v}
        descriptions = {k: v for k, v in p.descriptions.items() if v}
        digest = hashlib.md5(f"{p.reference}|{p.cost_price}|{p.stock}".encode()).hexdigest()
        yield (
            p.reference,
            p.ean,
            p.brand,
            p.category,
            json.dumps(names, ensure_ascii=False),
            json.dumps(descriptions, ensure_ascii=False),
            json.dumps(p.images),
            p.cost_price,
            p.retail_price,
            p.vat_class,
            int(p.stock),
            p.weight_kg,
            digest,
            f"bench-{seed}",
        )


def load_catalog(conn, count: int, seed: int) -> int:
    from mip.store.bulk import copy_rows

    copy_rows(conn, "mip.supplier_products", SUPPLIER_COLUMNS, supplier_rows(count, seed))
    conn.execute("ANALYZE mip.supplier_products")
    return conn.execute("SELECT count(*) FROM mip.supplier_products").fetchone()[0]


def change_catalog(conn, fraction: float, seed: int) -> dict[str, int]:
    """About ``fraction`` of the products change: 40% cost, 40% stock, 10% title, 10% leave the catalog."""
    share = {"cost": 0.4, "stock": 0.4, "title": 0.1, "removed": 0.1}
    conn.execute("SELECT setseed(%s)", (seed / 1000,))
    conn.execute(
        "CREATE TEMP TABLE _changed AS SELECT reference, (random() * 10)::int AS kind FROM mip.supplier_products "
        "WHERE removed_at IS NULL AND random() < %s",
        (fraction,),
    )
    counts = {}
    counts["cost"] = conn.execute(
        "UPDATE mip.supplier_products p SET cost_price = round(cost_price * 1.07 + 0.5, 2) FROM _changed c "
        "WHERE c.reference = p.reference AND c.kind < 4"
    ).rowcount
    counts["stock"] = conn.execute(
        "UPDATE mip.supplier_products p SET stock = stock + 7 FROM _changed c "
        "WHERE c.reference = p.reference AND c.kind BETWEEN 4 AND 7"
    ).rowcount
    counts["title"] = conn.execute(
        "UPDATE mip.supplier_products p SET names = jsonb_set(names, '{it}', to_jsonb(coalesce(names->>'it', '') "
        "|| ' (2026)')) FROM _changed c WHERE c.reference = p.reference AND c.kind = 8 AND names ? 'it'"
    ).rowcount
    counts["removed"] = conn.execute(
        "UPDATE mip.supplier_products p SET removed_at = now() FROM _changed c "
        "WHERE c.reference = p.reference AND c.kind >= 9"
    ).rowcount
    assert abs(sum(share.values()) - 1) < 1e-9
    return counts


def run_pipeline(conn, run, label: str, results: list[tuple[str, str, Measure, str]]) -> Any:
    from mip.listings import stages
    from mip.listings.planning import plan_changes

    steps: list[tuple[str, Callable[[], Any], Callable[[Any], str]]] = [
        ("select", lambda: stages.select_offers(conn, run), lambda r: f"{r['selected']:,} selected"),
        (
            "gate_offers",
            lambda: stages.gate_offers(conn, run),
            lambda r: f"{r.evaluated_rows:,} rows, {r.unexpected_rows:,} rejected",
        ),
        ("price", lambda: stages.price_offers(conn, run), lambda r: f"{r['priced']:,} priced"),
        (
            "gate_prices",
            lambda: stages.gate_prices(conn, run),
            lambda r: f"{r.evaluated_rows:,} rows, {r.unexpected_rows:,} rejected",
        ),
        ("plan", lambda: plan_changes(conn, run), lambda r: str(r.as_dict())),
    ]
    outcome = None
    for name, step, describe in steps:
        with measured() as m:
            outcome = step()
            conn.commit()
        results.append((label, name, m, describe(outcome)))
    return outcome


def bench_server() -> str:
    from mip.store import embedded
    from mip.store.server import reachable

    configured = os.environ.get("MIP_BENCH_SERVER")
    if configured:
        return configured
    return LOCAL_SERVER if reachable(LOCAL_SERVER) else embedded.ensure_running(ROOT / ".local" / "bench-postgres")


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from mip.config import parse_topology
    from mip.listings.feeds import MAX_DOCUMENT_BYTES, MAX_MESSAGES, iter_documents
    from mip.listings.planning import apply_accepted, iter_plan_messages, plan_feed_batches
    from mip.runs import RunKey
    from mip.store.db import connect
    from mip.store.migrate import upgrade
    from mip.store.server import drop_database, ensure_database

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)")
    server = bench_server()
    name = f"mip_bench_publish_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server, name)
    try:
        upgrade(url)
        channel = parse_topology(BENCH_TOPOLOGY, "bench").channel("it")
        results: list[tuple[str, str, Measure, str]] = []
        with connect(url) as conn:
            with measured() as m:
                loaded = load_catalog(conn, args.count, args.seed)
                conn.commit()
            print(f"catalog: {loaded:,} products generated and loaded in {m.seconds:.1f} s (not part of the target)")

            first = RunKey(channel, "bench_run_1", "mip_publish__it")
            plan1 = run_pipeline(conn, first, "run 1", results)

            seller, locale = "A1MIPBENCHSELLER", channel.marketplace.language_tag
            with measured() as docs:
                documents = sizes = 0
                invalid: list = []
                for document in iter_documents(
                    iter_plan_messages(conn, channel.id, first.run_id),
                    seller_id=seller,
                    issue_locale=locale,
                    invalid=invalid,
                ):
                    documents += 1
                    sizes = max(sizes, len(document.body))
            batches = plan_feed_batches(conn, channel.id, first.run_id, seller_id=seller, issue_locale=locale)

            with measured() as applied:
                apply_accepted(conn, first)
                conn.commit()
            changes = change_catalog(conn, args.changed, args.seed)
            conn.commit()
            second = RunKey(channel, "bench_run_2", "mip_publish__it")
            plan2 = run_pipeline(conn, second, "run 2", results)
            with measured() as third_m:
                third = RunKey(channel, "bench_run_3", "mip_publish__it")
                apply_accepted(conn, second)
                conn.commit()
            plan3 = run_pipeline(conn, third, "run 3", results)

        print()
        print(f"{'run':<6} {'step':<12} {'seconds':>8} {'CPU s':>6} {'peak RSS':>10}  result")
        for label, step, m, text in results:
            print(f"{label:<6} {step:<12} {m.seconds:>8.1f} {m.cpu:>6.1f} {mib(m.peak_rss):>10}  {text}")
        for label in ("run 1", "run 2", "run 3"):
            rows = [m for lab, _, m, _ in results if lab == label]
            print(
                f"{label}: select -> plan {sum(m.seconds for m in rows):.1f} s "
                f"({sum(m.cpu for m in rows):.1f} s CPU in this process), peak RSS "
                f"{mib(max(m.peak_rss for m in rows))} (targets: < 60 s, < 2 GiB)"
            )
        print()
        print(
            f"apply run 1 to mip.listings (as if Amazon accepted everything): {applied.seconds:.1f} s; "
            f"applying run 2: {third_m.seconds:.1f} s"
        )
        changed = sum(changes.values())
        print(
            f"run 2 after changing {changed:,} products ({changed / loaded:.2%}: {changes}): plans "
            f"{plan2.messages:,} messages ({plan2.messages / max(plan1.messages, 1):.2%} of run 1's "
            f"{plan1.messages:,}): {plan2.update:,} UPDATE, {plan2.patch:,} PATCH, {plan2.delete:,} DELETE"
        )
        print(f"run 3 with nothing changed plans {plan3.messages:,} messages")
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print()
        print(
            f"feed documents for run 1's {plan1.messages:,} messages: {documents} createFeed calls "
            f"(<= {MAX_MESSAGES:,} messages and < {MAX_DOCUMENT_BYTES:,} bytes each; largest {sizes:,} bytes; "
            f"{plan1.payload_bytes / 2**20:,.0f} MiB of messages), built and schema-validated in "
            f"{docs.seconds:.1f} s (peak RSS {mib(docs.peak_rss)}); {len(invalid)} invalid messages; "
            f"plan_feed_batches agrees: {len(batches)} documents"
        )
        put_rate = 5.0  # putListingsItem usage plan: 5 requests/s, burst 10
        feed_rate, feed_burst = 0.0083, 15  # createFeed: 0.0083 requests/s, burst 15
        feed_minutes = max(0, documents - feed_burst) / feed_rate / 60
        print(
            f"versus {plan1.messages:,} putListingsItem calls: at Amazon's 5 requests/s that is at least "
            f"{plan1.messages / put_rate / 3600:.1f} h of calls; of the {documents} createFeed calls the first "
            f"{min(documents, feed_burst)} go at once (burst {feed_burst}), the rest one every 2 minutes "
            f"({feed_minutes:.0f} min)"
        )
        if args.json:
            runs = {}
            for label in ("run 1", "run 2", "run 3"):
                rows = [(step, m) for lab, step, m, _ in results if lab == label]
                runs[label.replace(" ", "_")] = {
                    "seconds": sum(m.seconds for _, m in rows),
                    "cpu_seconds": sum(m.cpu for _, m in rows),
                    "peak_rss_mib": max(m.peak_rss for _, m in rows) / 2**20,
                    "steps": {step: round(m.seconds, 2) for step, m in rows},
                }
            args.json.write_text(
                json.dumps(
                    {
                        "products": loaded,
                        "runs": runs,
                        "target_seconds": 60,
                        "target_peak_mib": 2048,
                        "changed_products": changed,
                        "changed_fraction": changed / loaded,
                        "run2_messages": plan2.messages,
                        "run2_update": plan2.update,
                        "run2_patch": plan2.patch,
                        "run2_delete": plan2.delete,
                        "run1_messages": plan1.messages,
                        "run3_messages": plan3.messages,
                        "feed_documents": documents,
                        "largest_document_bytes": sizes,
                        "plan_feed_batches": len(batches),
                        "put_listings_hours": plan1.messages / put_rate / 3600,
                    },
                    indent=2,
                )
            )
    finally:
        if args.keep:
            print(f"kept database {url}")
        else:
            drop_database(server, name)


if __name__ == "__main__":
    main()
