"""``make bench``: run every benchmark script and print one table (figure, value, target, command).

Each script runs alone, one after the other (on 2 cores a second load would distort the figures), with
``--json FILE``; its human-readable output goes to ``.local/bench/<script>.log``. The table is printed
as Markdown with the machine and the date, kept with the raw figures in ``.local/bench/results.md`` and
``results.json``, and, when every script ran, written to ``bench/results/latest.md`` (committed; the
docs link it instead of copying figures). Exit status 1 when a script failed or a target was
missed. About 30 minutes on the 2-core development machine (fulfilment 13, order_latency 8, dag_run 4).

    .venv/bin/python bench/run_all.py [--only publish,orders] [--out .local/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LATEST = ROOT / "bench" / "results" / "latest.md"
# (name, script arguments): the order they run in
SCRIPTS: list[tuple[str, list[str]]] = [
    ("parse_time", []),
    ("publish", []),
    ("orders", []),
    ("rate_budget", []),
    ("sandbox", []),
    ("catalog", []),
    ("dag_run", []),
    ("fulfilment", []),
    # 4 Amazon hours at time scale 30 (8 real minutes); the script's default, a whole Amazon day, takes 48
    ("order_latency", ["--hours", "4"]),
]


@dataclass
class Row:
    figure: str
    value: str
    target: str
    met: bool | None  # None: no target
    command: str


def _n(value: float) -> str:
    return f"{value:,.0f}"


def parse_time_rows(f: dict[str, Any], command: str) -> list[Row]:
    rows = []
    for key, label in (("demo", "demo topology"), ("forty", "40 channels")):
        m = f[key]
        rows.append(
            Row(
                f"DAG folder parse time, {label} ({m['dags']} DAGs)",
                f"{m['dags_import_s']:.2f} s",
                f"< {m['target_s']:g} s",
                m["dags_import_s"] < m["target_s"],
                command,
            )
        )
    return rows


def publish_rows(f: dict[str, Any], command: str) -> list[Row]:
    run = f["runs"]["run_1"]
    steps = ", ".join(f"{k} {v:.1f}" for k, v in run["steps"].items())
    peak_ok = run["peak_rss_mib"] < f["target_peak_mib"]
    return [
        Row(
            f"publish select -> gate -> price -> gate -> plan, {_n(f['products'])} products",
            f"{run['seconds']:.1f} s, peak {run['peak_rss_mib']:.0f} MiB (s: {steps})",
            f"< {f['target_seconds']} s, < {f['target_peak_mib'] / 1024:g} GiB",
            run["seconds"] < f["target_seconds"] and peak_ok,
            command,
        ),
        Row(
            f"createFeed calls for {_n(f['run1_messages'])} SKUs",
            f"{f['feed_documents']} feed documents (<= 25,000 messages, < 10 MiB) vs {_n(f['run1_messages'])} "
            f"putListingsItem calls (>= {f['put_listings_hours']:.1f} h at 5/s)",
            "",
            None,
            command,
        ),
        Row(
            f"messages planned after {f['changed_fraction']:.2%} of the products changed",
            f"{_n(f['run2_messages'])} = {f['run2_messages'] / f['run1_messages']:.2%} ({_n(f['run2_update'])} "
            f"UPDATE, {_n(f['run2_patch'])} PATCH, {_n(f['run2_delete'])} DELETE); unchanged re-run "
            f"{f['run3_messages']}",
            "≈ the share changed, 0 when unchanged",
            f["run3_messages"] == 0 and f["run2_messages"] <= 2 * f["changed_products"],
            command,
        ),
    ]


def orders_rows(f: dict[str, Any], command: str) -> list[Row]:
    rows = []
    if "import" in f:
        imp = f["import"]
        labels = {
            "api": "by paging getOrders + getOrderItems",
            "report": "by the orders report",
            "cheaper": "by the path the import chooses",
        }
        for path, label in labels.items():
            m = imp[path]
            calls = " + ".join(f"{_n(n)} {op}" for op, n in m["calls"].items() if n)
            floor = f" (usage plans' floor {m['plan_floor_hours']:.2f} h)" if m["plan_floor_hours"] else ""
            chosen = path != "cheaper" or m["method"] == "report"
            rows.append(
                Row(
                    f"{_n(imp['orders'])} orders in 1 day {label}: calls, Amazon-bound and local time",
                    f"{m['method']}: {calls}, {m['throttled']} x 429; {m['usage_plan_hours']:.2f} h on Amazon's "
                    f"clock{floor}, local {m['local_seconds']:.1f} s",
                    "the report (the cheaper path)" if path == "cheaper" else "",
                    m["throttled"] == 0 and chosen if path == "cheaper" else None,
                    command,
                )
            )
    if "upsert" in f:
        u = f["upsert"]
        rate = u["empty"]["rows_per_second"]
        rows.append(
            Row(
                f"order upsert, {_n(u['orders'])} orders + {_n(u['lines'])} lines",
                f"{_n(rate)} rows/s (unchanged again: {_n(u['unchanged']['rows_per_second'])} rows/s, "
                f"{u['unchanged']['written']} written)",
                f">= {_n(u['target_rows_per_second'])} rows/s",
                rate >= u["target_rows_per_second"],
                command,
            )
        )
    return rows


def rate_budget_rows(f: dict[str, Any], command: str) -> list[Row]:
    return [
        Row(
            f"rate budget: {f['workers']} concurrent tasks of one account, {_n(f['calls'])} {f['operation']}",
            f"{f['throttled']} x 429, {f['seconds']:.1f} s = {f['ratio']:.3f} x the usage-plan minimum "
            f"({f['minimum_seconds']:.1f} s at time scale {f['time_scale']:g})",
            f"{f['target_throttled']} x 429, <= {f['target_ratio']:.2f}",
            f["throttled"] <= f["target_throttled"] and f["ratio"] <= f["target_ratio"],
            command,
        )
    ]


def sandbox_rows(f: dict[str, Any], command: str) -> list[Row]:
    g, feed = f["get_orders"], f["feed"]
    return [
        Row(
            f"sandbox getOrders over {_n(g['orders'])} orders",
            f"{g['pages_per_second']:.0f} pages/s ({g['pages']} pages of 100 in {g['seconds']:.1f} s)",
            "",
            None,
            command,
        ),
        Row(
            f"sandbox: {_n(f['messages'])}-message feed ({feed['bytes'] / 2**20:.1f} MiB)",
            f"{feed['status']} {feed['wall']:.1f} s after createFeed",
            "",
            None,
            command,
        ),
    ]


def catalog_rows(f: dict[str, Any], command: str) -> list[Row]:
    first, changed = f["first_load"], f["changed"]
    return [
        Row(
            f"catalog ingest, {_n(f['products'])} products: first load / {_n(f['changed_products'])} changed",
            f"{first['wall']:.1f} s ({first['cpu']:.0f} s CPU), peak {first['peak_mib']:.0f} MiB / "
            f"{changed['wall']:.1f} s",
            "",
            None,
            command,
        )
    ]


def dag_run_rows(f: dict[str, Any], command: str) -> list[Row]:
    gate, run = f["gate"], f["publish"]
    steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(run["steps_s"].items(), key=lambda kv: -kv[1])[:6])
    return [
        Row(
            f"demo mip_publish__it run (dag.test), {_n(run['products'])} products: end to end / its steps",
            f"{run['end_to_end_s']:.1f} s / {run['steps_sum_s']:.1f} s ({run['state']}; s: {steps}, ...)",
            "",
            None,
            command,
        ),
        Row(
            "fixed cost of one gate task (fresh interpreter, imports, GX context, one row)",
            f"{gate['median_s']:.1f} s wall, {gate['median_cpu_s']:.1f} s CPU",
            f"<= {gate['target_s']:g} s on an idle machine",
            gate["median_cpu_s"] <= gate["target_s"],
            command,
        ),
    ]


def fulfilment_rows(f: dict[str, Any], command: str) -> list[Row]:
    truth, per_order = f["truth"], f["sp_calls_per_order"]
    clean = truth["sent_twice"] == truth["confirmed_twice"] == truth["lost"] == truth["wrong_tracking"] == 0
    supplier = ", ".join(f"{op} {n:,}" for op, n in f["supplier_calls"].items())
    return [
        Row(
            f"fulfilment loop, {_n(f['orders'])} orders ({_n(truth['supplier_orders'])} shippable): calls per order",
            f"supplier {f['supplier_calls_per_order']:.2f} ({supplier}); confirmShipment "
            f"{per_order['confirmShipment']:.2f}, getOrderAddress {per_order['getOrderAddress']:.2f}, "
            f"createRestrictedDataToken {per_order['createRestrictedDataToken']:.3f}; {f['throttled']} x 429",
            "0 x 429, 1 confirmShipment per order",
            f["throttled"] == 0 and per_order["confirmShipment"] == 1.0,
            command,
        ),
        Row(
            "fulfilment loop: usage-plan time of send + confirm vs the usage plans' minimum; truths",
            f"{f['usage_plan_hours']:.2f} h on Amazon's clock vs {f['plan_floor_hours']:.2f} h minimum "
            f"({f['usage_plan_hours'] / max(f['plan_floor_hours'], 1e-9):.2f} x); sent twice {truth['sent_twice']}, "
            f"lost {truth['lost']}, confirmed twice {truth['confirmed_twice']}; local s: "
            + ", ".join(f"{k} {v:.0f}" for k, v in f["seconds"].items()),
            "0 sent twice, 0 lost",
            clean,
            command,
        ),
    ]


def order_latency_rows(f: dict[str, Any], command: str) -> list[Row]:
    e, p = f["events"], f["polling"]
    el, pl = e["latency_amazon_minutes"], p["latency_amazon_minutes"]
    return [
        Row(
            f"order latency with ORDER_CHANGE events, {f['hours']:g} Amazon h, every notification fault on",
            f"p50 {el['p50']:.1f} / p95 {el['p95']:.1f} / max {el['max']:.1f} Amazon min; "
            f"{e['calls_per_order']:.2f} calls/order",
            "p95 <= 2 Amazon min",
            el["p95"] <= 2,
            command,
        ),
        Row(
            "order latency with hourly polling only",
            f"p50 {pl['p50']:.1f} / p95 {pl['p95']:.1f} / max {pl['max']:.1f} Amazon min; "
            f"{p['calls_per_order']:.2f} calls/order",
            "",
            None,
            command,
        ),
        Row(
            "orders lost / duplicated rows / responses 429 (events with faults, polling)",
            f"{e['lost'] + p['lost']} / {e['duplicated_rows'] + p['duplicated_rows']} / {f['responses_429']}",
            "0 / 0 / 0",
            e["lost"] + p["lost"] + e["duplicated_rows"] + p["duplicated_rows"] + f["responses_429"] == 0,
            command,
        ),
    ]


ROWS: dict[str, Callable[[dict[str, Any], str], list[Row]]] = {
    "parse_time": parse_time_rows,
    "publish": publish_rows,
    "orders": orders_rows,
    "rate_budget": rate_budget_rows,
    "sandbox": sandbox_rows,
    "catalog": catalog_rows,
    "dag_run": dag_run_rows,
    "fulfilment": fulfilment_rows,
    "order_latency": order_latency_rows,
}


def machine() -> str:
    mem = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, commit "
        f"{commit.stdout.strip() or '?'}{' + local changes' if dirty else ''}"
    )


def run_script(name: str, args: list[str], out: Path) -> tuple[dict[str, Any] | None, float, Path]:
    result, log = out / f"{name}.json", out / f"{name}.log"
    result.unlink(missing_ok=True)
    started = time.monotonic()
    with open(log, "w") as handle:
        code = subprocess.run(
            [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args, "--json", str(result)],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        ).returncode
    seconds = time.monotonic() - started
    if code != 0 or not result.exists():
        return None, seconds, log
    return json.loads(result.read_text()), seconds, log


def latest_page(header: str, total_seconds: float, table: list[str]) -> str:
    """``bench/results/latest.md``: the table of a full ``make bench`` run, as bench/README.md links it."""
    return "\n".join(
        [
            "# `make bench`: latest full run",
            "",
            f"Written by `bench/run_all.py`. Measured {header}; {total_seconds / 60:.1f} min in total. "
            "How to read each row: bench/README.md.",
            "",
            *table,
            "",
        ]
    )


def markdown(rows: list[Row]) -> list[str]:
    def verdict(row: Row) -> str:
        return "" if row.met is None else ("met" if row.met else "**MISSED**")

    lines = ["| figure | value | target | | command |", "|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.value} | {r.target} | {verdict(r)} | `{r.command}` |" for r in rows]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated scripts to run (default: all): " + ", ".join(n for n, _ in SCRIPTS)
    )
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "bench", help="logs and results")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else {n for n, _ in SCRIPTS}
    unknown = wanted - {n for n, _ in SCRIPTS}
    if unknown:
        parser.error(f"unknown scripts {sorted(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)

    header = machine()
    print(f"benchmarks, {header}; logs in {args.out}", flush=True)
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    failed: list[str] = []
    began = time.monotonic()
    for name, extra in SCRIPTS:
        if name not in wanted:
            continue
        command = " ".join([f"bench/{name}.py", *extra])
        print(f"  {command} ...", end=" ", flush=True)
        found, seconds, log = run_script(name, extra, args.out)
        if found is None:
            print(f"FAILED after {seconds:.0f} s: see {log}", flush=True)
            failed.append(name)
            rows.append(
                Row(
                    f"{name} (failed)",
                    f"see {log.relative_to(ROOT) if log.is_relative_to(ROOT) else log}",
                    "",
                    False,
                    command,
                )
            )
            continue
        print(f"{seconds:.0f} s", flush=True)
        figures[name] = {**found, "script_seconds": seconds}
        rows.extend(ROWS[name](found, command))

    table = markdown(rows)
    total = time.monotonic() - began
    print()
    print(
        f"Measured {header}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end; "
        f"{total / 60:.1f} min in total."
    )
    print()
    print("\n".join(table))
    missed = [r.figure for r in rows if r.met is False]
    (args.out / "results.md").write_text(f"Measured {header}.\n\n" + "\n".join(table) + "\n")
    if wanted == {n for n, _ in SCRIPTS}:
        LATEST.parent.mkdir(exist_ok=True)
        LATEST.write_text(latest_page(header, total, table))
        print(f"\nwritten to {LATEST.relative_to(ROOT)}")
    (args.out / "results.json").write_text(json.dumps({"machine": header, "figures": figures}, indent=2, default=str))
    if missed:
        print(f"\n{len(missed)} row(s) missed the target or failed: {'; '.join(missed)}")
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
