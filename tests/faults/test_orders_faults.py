"""Order imports under faults, through ``dag.test()`` of ``mip_orders__<channel>`` against a sandbox of this
module's own: a throttling storm, a truncated orders report, a marketplace that stops participating.
Each case ends with mip.orders / mip.order_items compared with the sandbox's orders."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states
from tests.faults.conftest import DEMO, FaultRow, order_tally, utc_hour
from tests.orders.conftest import assert_matches_truth, generate


@pytest.fixture(scope="module")
def orders_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("faults-orders-spapi"), time_scale=600.0) as running:
        yield running


@pytest.fixture
def connected(orders_sandbox, monkeypatch, clean_orders):
    use_sandbox_connection(monkeypatch, orders_sandbox)
    orders_sandbox.reset_faults()
    orders_sandbox.admin("POST", "reset-counters")
    yield orders_sandbox
    orders_sandbox.reset_faults()


def try_number(dag_run, task_id: str) -> int:
    return next(t.try_number for t in dag_run.get_task_instances() if t.task_id == task_id)


def interval(db, channel_id: str) -> tuple:
    return db.execute(
        "SELECT status, method, error FROM mip.order_intervals WHERE channel_id = %s ORDER BY started_at DESC LIMIT 1",
        (channel_id,),
    ).fetchone()


def test_a_throttling_storm_is_absorbed_by_the_budget_and_the_retries(connected, run_dag, db, fault_table):
    sandbox = connected
    end = utc_hour(20)
    start = end - timedelta(hours=1)
    ids = set(generate(sandbox, 10, start.timestamp(), start.timestamp() + 1200))
    sandbox.set_faults(throttle_storm={"fraction": 0.4})
    dag_run = run_dag("mip_orders__it", logical_date=end)
    sandbox.reset_faults()
    calls = sandbox.admin("GET", "calls")
    throttled = sum(v.get("throttled", 0) for v in calls.values() if isinstance(v, dict))
    lost, duplicated = order_tally(db, sandbox, "it", "IT", ids)
    fault_table(
        FaultRow(
            "throttling storm",
            1,
            lost,
            duplicated,
            None,
            f"0 ({throttled} of {sum(v.get('calls', 0) for v in calls.values() if isinstance(v, dict))}"
            " calls answered 429, retried)",
        )
    )
    assert str(dag_run.state) == "success", task_states(dag_run)
    assert throttled >= 2, f"the storm must have hit: {calls}"
    assert (lost, duplicated) == (0, 0)
    assert assert_matches_truth(db, sandbox, "it", "IT", ids) == 10


def test_a_truncated_report_is_refused_whole_and_the_rerun_imports_every_order(
    connected, run_dag, rerun, dagbag, db, monkeypatch, fault_table
):
    sandbox = connected
    window_end = utc_hour(30)
    window_start = window_end - timedelta(days=3)
    ids = set(generate(sandbox, 40, window_start.timestamp(), window_end.timestamp() - 3600))
    monkeypatch.setattr(dagbag.get_dag("mip_orders__it").get_task("wait_report"), "poke_interval", 1.0)
    conf = {"window_start": window_start.isoformat(), "window_end": window_end.isoformat(), "path": "report"}
    logical_date = utc_hour(26)

    sandbox.set_faults(truncated_reports=True)
    broken = run_dag("mip_orders__it", logical_date=logical_date, conf=conf)
    sandbox.reset_faults()
    broken_states, broken_tries = task_states(broken), try_number(broken, "download_report")
    status, method, error = interval(db, "it")
    loaded_from_broken = db.execute(
        "SELECT count(*) FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)
    ).fetchone()[0]

    repaired = rerun(broken, conf)  # the run cleared: its extract requests a new report
    lost, duplicated = order_tally(db, sandbox, "it", "IT", ids)
    reason = re.search(r"line \d+: \d+ columns where the header has \d+", error or "")
    fault_table(
        FaultRow(
            "truncated report document",
            2,
            lost,
            duplicated,
            None,
            f"1 report refused whole ({reason and reason.group(0)}); {loaded_from_broken} of its orders loaded",
        )
    )

    assert broken_states["download_report"] == "failed", broken_states
    assert broken_tries == 1, "a damaged document is the same on every download: no retry"
    assert (status, method) == ("failed", "report")
    assert "columns where the header has" in error and "request the report again" in error
    assert loaded_from_broken == 0, "nothing of a damaged report is loaded"
    assert broken.run_id == repaired.run_id and str(repaired.state) == "success", task_states(repaired)
    assert interval(db, "it")[:2] == ("imported", "report")
    assert (lost, duplicated) == (0, 0)
    assert assert_matches_truth(db, sandbox, "it", "IT", ids) == 40


def test_a_marketplace_that_stops_participating_fails_its_channel_only_and_nothing_is_lost(
    connected, run_dag, rerun, db, fault_table, capfd
):
    sandbox = connected
    end = utc_hour(40)
    start = end - timedelta(hours=1)
    fr_ids = set(generate(sandbox, 15, start.timestamp(), start.timestamp() + 1200, country="FR"))
    it_ids = set(generate(sandbox, 15, start.timestamp(), start.timestamp() + 1200))

    sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "FR", "participating": False})
    try:
        stopped = run_dag("mip_orders__fr", logical_date=end)
        stopped_states, stopped_tries = task_states(stopped), try_number(stopped, "extract")
        fr_status, _, fr_error = interval(db, "fr")
        other = run_dag("mip_orders__it", logical_date=end)
        health = run_dag("mip_account_health")
        health_output = capfd.readouterr().out
    finally:
        sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "FR", "participating": True})
    again = rerun(stopped)  # once the seller sells in FR again, the failed run is cleared
    lost_fr, duplicated_fr = order_tally(db, sandbox, "fr", "FR", fr_ids)
    lost_it, duplicated_it = order_tally(db, sandbox, "it", "IT", it_ids)
    fault_table(
        FaultRow(
            "marketplace stops participating",
            4,
            lost_fr + lost_it,
            duplicated_fr + duplicated_it,
            None,
            "run of fr failed at once (marketplace not participating), health check failed; it unaffected",
        )
    )

    assert stopped_states["extract"] == "failed" and stopped_tries == 1, stopped_states
    assert fr_status == "failed" and "FR" in fr_error and "Seller Central" in fr_error, fr_error
    assert str(other.state) == "success", task_states(other)
    assert str(health.state) == "failed" and "FR" in health_output, task_states(health)
    assert again.run_id == stopped.run_id and str(again.state) == "success", task_states(again)
    assert (lost_fr, duplicated_fr, lost_it, duplicated_it) == (0, 0, 0, 0)
    assert assert_matches_truth(db, sandbox, "fr", "FR", fr_ids) == 15
    assert assert_matches_truth(db, sandbox, "it", "IT", it_ids) == 15
