"""Catalog ingest benchmark: 200,000 generated products, a first load and a re-run with 1% changed.

Prints the generator's time, then for each ingest (each in a fresh interpreter, so the peak memory
is the ingest's own): wall seconds, products per second, CPU seconds, peak RSS, what was written and
the time of each step. Prints, does not assert.

    .venv/bin/python bench/catalog.py [--count 200000] [--url postgresql://...] [--keep DIR] [--json FILE]

The database: ``--url`` or ``MIP_DATABASE_URL`` if set (its catalog tables are emptied!), else a
scratch database created on the PostgreSQL at 127.0.0.1:5432 and dropped afterwards.
``--json FILE`` also writes the figures as JSON (``bench/run_all.py`` reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sandbox package (the generator)

# VmHWM (the peak RSS of this process image) rather than ru_maxrss, which Linux carries over from the
# parent across fork and exec, so the generator's memory would show up in the ingest's figure.
CHILD = r"""
import json, sys, time
from mip.catalog.ingest import IngestOptions, ingest_directory
from mip.store.db import connect
url, folder, force = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
started, cpu = time.perf_counter(), time.process_time()
with connect(url) as conn:
    result = ingest_directory(conn, folder, options=IngestOptions(force=force))
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mib": int(status["VmHWM"].split()[0]) / 1024,
                  "result": result.to_dict()}))
"""


def run_ingest(url: str, folder: Path, force: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(folder), "1" if force else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(name: str, figures: dict) -> dict:
    result = figures["result"]
    rate = result["records"] / figures["wall"] if figures["wall"] else 0
    phases = ", ".join(f"{k} {v:.1f}" for k, v in result["phases"].items())
    print(
        f"{name}: {figures['wall']:.1f} s wall ({rate:,.0f} products/s), {figures['cpu']:.1f} s CPU, "
        f"peak {figures['peak_mib']:.0f} MiB; {result['status']}: {result['inserted']} inserted, "
        f"{result['updated']} updated, {result['removed']} removed, {result['unchanged']} unchanged, "
        f"{result['rejected_rows']} rejected rows"
    )
    if phases:
        print(f"    steps (s): {phases}")
    return figures


def scratch_database() -> tuple[str, str | None]:
    if os.environ.get("MIP_DATABASE_URL"):
        return os.environ["MIP_DATABASE_URL"], None
    from mip.store.server import ensure_database

    name = f"mip_bench_catalog_{uuid.uuid4().hex[:8]}"
    return ensure_database("postgresql://postgres@127.0.0.1:5432", name), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--url", help="the mip database (its catalog tables are emptied)")
    parser.add_argument("--keep", help="write the catalog here and keep it (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict = {"products": args.count}

    from mip.store.db import connect
    from mip.store.migrate import upgrade
    from mip.store.server import drop_database
    from sandbox.catalog import mutate, write_catalog

    url, scratch = (args.url, None) if args.url else scratch_database()
    try:
        upgrade(url)
        with connect(url) as conn:
            conn.execute("TRUNCATE mip.supplier_products, mip.catalog_versions")
        with tempfile.TemporaryDirectory(prefix="mip-bench-catalog-") as tmp:
            folder = Path(args.keep or tmp) / "supplier"
            started = time.perf_counter()
            bad = write_catalog(folder, count=args.count, seed=1)
            size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
            print(
                f"generator: {args.count:,} products ({size:.0f} MiB, {len(bad)} bad lines) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            figures["first_load"] = report("first load", run_ingest(url, folder))
            figures["unchanged"] = report("same drop again (skipped by checksum)", run_ingest(url, folder))
            figures["forced"] = report(
                "same drop, forced (read, compare, write nothing)", run_ingest(url, folder, force=True)
            )
            started = time.perf_counter()
            mutation = mutate(folder, fraction=0.01, seed=2)
            print(
                f"mutate: {len(mutation.changed)} products changed, {len(mutation.removed)} removed in "
                f"{time.perf_counter() - started:.1f} s"
            )
            figures["changed"] = report("re-run with 1% changed", run_ingest(url, folder))
            figures["changed_products"] = len(mutation.changed)
    finally:
        if scratch:
            drop_database(url, scratch)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
