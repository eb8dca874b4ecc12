"""A DAG run's own cost: a demo ``mip_publish__it`` run end to end against its steps, and a gate task's fixed cost.

Three figures:

1. the end-to-end time of a ``mip_publish__it`` run with ``dag.test()`` over the demo catalog (5,000
   products from ``sandbox.catalog``, ingested like ``mip_catalog_sync`` does) against a sandbox
   (time scale 600, feeds polled every second);
2. the sum of its task instances' own times (start to end, mapped ones added up): the difference is
   what the run costs beyond its steps (scheduling between tasks, XCom, the sandbox's feed processing
   is inside ``wait``);
3. the fixed cost of one gate task: a fresh interpreter that imports what a gate task imports and
   gates a one-row frame (suite ``catalog_offer``: great-expectations' context and validation), from
   spawn to exit, the median of three. A task process of a real deployment pays this for each gate
   (``dag.test()`` runs every task in one process, so it pays the imports once). Target: 5 s on an
   idle machine; the child's CPU seconds are printed too (on a loaded machine they stand for the
   idle machine's wall time).

Scratch databases (``mip_bench_dag`` and ``mip_bench_dag_airflow``) on ``MIP_BENCH_DATABASE_URL``'s
server (default: 127.0.0.1:5432 when it answers, else the embedded one), dropped at the end.

    .venv/bin/python bench/dag_run.py [--count 5000] [--json FILE] [--gate-only]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from support import ROOT, bench_database

DAG_ID = "mip_publish__it"
TARGET_GATE_SECONDS = 5.0
GATE_TASK = r"""
import json, sys, time
started = time.perf_counter()
import pandas as pd
from mip.quality.gate import run_gate
from mip.store.db import connect
imported = time.perf_counter()
frame = pd.DataFrame({"sku": ["MIP-R1"], "ean": ["4006381333931"], "item_name": ["Knife"], "brand": ["Lumera"],
                      "image_count": [1], "cost_price": [10.0], "quantity": [3]})
with connect(sys.argv[1]) as conn:
    result = run_gate(conn, "catalog_offer", frame, key_column="sku", source="bench:gate", dag_id=None,
                      run_id="bench", task_id="gate", max_failed_fraction=0.0)
assert result.passed, result.message()
print(json.dumps({"imports_s": imported - started, "gate_s": time.perf_counter() - imported}))
"""


def gate_fixed_cost(mip_url: str, repeat: int = 3) -> dict[str, Any]:
    """Spawn-to-exit seconds of a fresh interpreter gating one row, with the child's own breakdown."""
    runs = []
    for _ in range(repeat):
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", GATE_TASK, mip_url], capture_output=True, text=True, check=True, cwd=ROOT
        )
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        runs.append({"wall_s": wall, "cpu_s": cpu, **json.loads(done.stdout.strip().splitlines()[-1])})
    return {
        "runs": runs,
        "median_s": statistics.median(r["wall_s"] for r in runs),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "target_s": TARGET_GATE_SECONDS,
    }


def _airflow_env(home: Path, mip_url: str, airflow_url: str, topology: Path) -> None:
    os.environ.update(
        {
            "MIP_DATABASE_URL": mip_url,
            "MIP_CHANNELS_FILE": str(topology),
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            # the orders DAGs' PeriodEndTimetable is registered by plugins/mip_timetables.py: without the
            # plugin, dag.test() cannot serialize the DAG folder
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_MIP_POSTGRES": mip_url,
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "MIP_FEED_POKE_SECONDS": "1",
        }
    )


def publish_run(mip_url: str, airflow_url: str, count: int) -> dict[str, Any]:
    """A demo mip_publish__it run with dag.test(): end-to-end seconds and each task's own seconds."""
    from support import sandbox

    home = Path(tempfile.mkdtemp(prefix="mip-bench-dag-"))
    topology = home / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    _airflow_env(home, mip_url, airflow_url, topology)
    try:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
        from mip.airflow.setup import sandbox_connection_extra
        from mip.catalog.ingest import IngestOptions, ingest_directory
        from mip.config import load_topology
        from mip.store import registry
        from mip.store.db import connect
        from sandbox import catalog

        drop = home / "supplier"
        catalog.write_catalog(drop, count=count, seed=1)
        with connect(mip_url) as conn:
            loaded = ingest_directory(conn, drop, options=IngestOptions(force=True))
            registry.deploy(conn, load_topology(topology))
        with sandbox(time_scale=600.0) as shop:
            extra = sandbox_connection_extra(shop.base_url, shop.account("demo"))
            os.environ["AIRFLOW_CONN_AMAZON_SP_API_DEMO"] = json.dumps({"conn_type": "amazon_sp_api", "extra": extra})
            from airflow.dag_processing.dagbag import DagBag

            dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(DAG_ID)
            started = time.perf_counter()
            dag_run = dag.test()
            seconds = time.perf_counter() - started
        steps: dict[str, float] = {}
        for ti in dag_run.get_task_instances():
            if ti.start_date and ti.end_date:
                steps[ti.task_id] = steps.get(ti.task_id, 0.0) + (ti.end_date - ti.start_date).total_seconds()
        return {
            "products": loaded.loaded,
            "state": str(dag_run.state),
            "end_to_end_s": seconds,
            "steps_s": {k: round(v, 2) for k, v in steps.items()},
            "steps_sum_s": sum(steps.values()),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--gate-only", action="store_true", help="only the gate task's fixed cost")
    args = parser.parse_args()

    from mip.store.server import drop_database, ensure_database

    mip_url = bench_database("mip_bench_dag")
    server = mip_url.rsplit("/", 1)[0]
    figures: dict[str, Any] = {"gate": gate_fixed_cost(mip_url)}
    gate = figures["gate"]
    print(
        f"fixed cost of a gate task: {gate['median_s']:.1f} s wall, {gate['median_cpu_s']:.1f} s CPU (median of "
        f"{len(gate['runs'])}: "
        + ", ".join(
            f"{r['wall_s']:.1f} s / {r['cpu_s']:.1f} s CPU (imports {r['imports_s']:.1f}, gate {r['gate_s']:.1f})"
            for r in gate["runs"]
        )
        + f"); target {TARGET_GATE_SECONDS:g} s on an idle machine"
    )
    if not args.gate_only:
        airflow_url = ensure_database(server, "mip_bench_dag_airflow")
        try:
            run = publish_run(mip_url, airflow_url, args.count)
        finally:
            if "airflow.settings" in sys.modules:
                sys.modules["airflow.settings"].dispose_orm()
            drop_database(server, "mip_bench_dag_airflow")
        figures["publish"] = run
        print(
            f"{DAG_ID} over {run['products']:,} products ({run['state']}): {run['end_to_end_s']:.1f} s end to end, "
            f"{run['steps_sum_s']:.1f} s in its steps ({run['steps_s']})"
        )
    drop_database(server, "mip_bench_dag")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
