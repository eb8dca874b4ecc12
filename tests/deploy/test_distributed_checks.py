"""The verdicts of scripts/distributed_test.py on results it did not like (the real run: make distributed-test)."""

from __future__ import annotations

import distributed_test as harness
import pytest
from mipdist.rest import TaskRecord
from mipdist.tables import TableSnapshot

WORKERS = ["mipdist-celery-worker1", "mipdist-celery-worker2"]
POOLS = ["sp_api__demo"]
THREE = [*WORKERS, WORKERS[0]]
TOPOLOGY = harness.ROOT / "include" / "channels.yaml"


def result(name: str, hosts: list[str], *, state: str = "success", rows: int = 4, pools=POOLS) -> harness.ModeResult:
    tasks = [TaskRecord(f"mip_orders__{i}", "check_channel", -1, state, host, 1) for i, host in enumerate(hosts)]
    states = {(t.dag_id, "run"): "success" if state == "success" else "failed" for t in tasks}
    tables = {"channel_registry": TableSnapshot(["channel_id"], ["registered_at"], [(f"c{i}",) for i in range(rows)])}
    return harness.ModeResult(name, 1.0, states, tasks, {p: 4 for p in pools}, tables)


def test_passes_when_both_workers_ran_tasks_and_everything_matches():
    local = result("local", ["vm", "vm", "vm"])
    celery = result("celery", THREE)
    assert harness.check(local, celery, WORKERS, POOLS) == []


@pytest.mark.parametrize(
    ("celery", "expected"),
    [
        (result("celery", [WORKERS[0]] * 3), "workers that ran no task: ['mipdist-celery-worker2']"),
        (result("celery", THREE, state="failed"), "celery: runs not successful"),
        (result("celery", THREE, rows=3), "mip tables: table channel_registry (4 vs 3 rows)"),
        (result("celery", THREE, pools=[]), "celery: pools missing: ['sp_api__demo']"),
        (result("celery", WORKERS), "task instances differ"),
    ],
)
def test_fails_with_the_reason(celery, expected):
    problems = harness.check(result("local", ["vm", "vm", "vm"]), celery, WORKERS, POOLS)
    assert any(expected in p for p in problems), problems


def test_an_empty_comparison_proves_nothing():
    problems = harness.check(result("local", ["vm"] * 2, rows=0), result("celery", WORKERS, rows=0), WORKERS, POOLS)
    assert problems == ["mip tables: both runs left every table empty, so the comparison proves nothing"]


def test_the_demo_dags_follow_the_topology():
    dags = harness.demo_dag_ids(("publish", "verify_international", "orders"), TOPOLOGY)
    assert set(dags) == {
        "mip_publish__it",
        "mip_publish__de",
        "mip_verify_international__fr",
        "mip_verify_international__es",
        "mip_orders__it",
        "mip_orders__de",
        "mip_orders__fr",
        "mip_orders__es",
    }
    with pytest.raises(SystemExit, match="unknown pipeline 'publsh'"):
        harness.demo_dag_ids(("publsh",), TOPOLOGY)
