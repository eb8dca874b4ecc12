"""mip_orders__<channel> through dag.test() against a sandbox of this module's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mip.orders.steps import SEQUENCE
from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states
from tests.orders.conftest import assert_matches_truth, generate

STEPS = [
    "check_channel",
    "wait_until_closed",
    "extract",
    "wait_report",
    "download_report",
    "items",
    "gate",
    "load",
    "record_interval",
]


@pytest.fixture(scope="module")
def dag_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("orders-dag-spapi"), time_scale=600.0) as running:
        yield running


def hour(hours_ago: int) -> datetime:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=hours_ago)


def test_every_channel_has_an_order_dag_with_the_import_steps(dagbag):
    for channel in ("it", "de", "fr", "es"):
        dag = dagbag.get_dag(f"mip_orders__{channel}")
        assert dag is not None and dag.catchup is False
        assert [t.task_id for t in dag.topological_sort()] == STEPS
        # one order of steps: the DAG's tasks are mip.orders.steps.SEQUENCE, the importer's too
        assert [t.task_id for t in dag.topological_sort()][2:] == [step.name for step in SEQUENCE]
        assert {t.task_id for t in dag.tasks if t.pool == "sp_api__demo"} == {s.name for s in SEQUENCE if s.amazon}
        assert dag.get_task("wait_report").mode == "reschedule"
        assert dag.get_task("extract").pool == "sp_api__demo" and dag.get_task("items").pool == "sp_api__demo"
        assert [a.uri for a in dag.get_task("load").outlets] == [f"mip://orders/{channel}"]
        assert set(dag.params) == {"window_start", "window_end", "path"}
    assert "mip_repair__demo" in dagbag.dag_ids


def test_the_wait_defers_until_two_minutes_after_an_open_window_and_passes_a_closed_one():
    from airflow.sdk.exceptions import TaskDeferred

    from mip.airflow.pipelines.orders import WaitUntilClosed

    wait = WaitUntilClosed(task_id="wait_until_closed")
    end = datetime.now(UTC) + timedelta(minutes=30)
    with pytest.raises(TaskDeferred) as deferred:
        wait.execute({"data_interval_end": end, "params": {}})
    assert deferred.value.trigger.moment == end + timedelta(minutes=2)
    assert wait.execute({"data_interval_end": hour(1), "params": {}}) is None
    with pytest.raises(TaskDeferred):  # a manual window's end counts, not the data interval's
        wait.execute({"data_interval_end": hour(1), "params": {"window_end": end.isoformat()}})


def test_a_scheduled_interval_is_imported_recorded_and_announced(run_dag, dag_sandbox, clean_orders, monkeypatch):
    db = clean_orders
    use_sandbox_connection(monkeypatch, dag_sandbox)
    end = hour(3)
    start = end - timedelta(hours=1)
    ids = set(generate(dag_sandbox, 40, start.timestamp(), start.timestamp() + 900))
    dag_run = run_dag("mip_orders__it", logical_date=end)
    assert str(dag_run.state) == "success", task_states(dag_run)
    assert (dag_run.data_interval_start, dag_run.data_interval_end) == (start, end)
    assert assert_matches_truth(db, dag_sandbox, "it", "IT", ids) == 40
    row = db.execute(
        "SELECT interval_start, covered_end, method, status, orders_seen, orders_loaded, api_calls "
        "FROM mip.order_intervals WHERE channel_id = 'it'"
    ).fetchone()
    assert row == (start, end, "api", "imported", 40, 40, 41)

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        events = session.scalar(
            select(func.count())
            .select_from(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == "mip://orders/it", AssetEvent.source_run_id == dag_run.run_id)
        )
    assert events == 1


def test_the_path_param_sends_a_window_through_the_orders_report(
    run_dag, dagbag, dag_sandbox, clean_orders, monkeypatch
):
    db = clean_orders
    use_sandbox_connection(monkeypatch, dag_sandbox)
    window_end = hour(30)
    window_start = window_end - timedelta(days=3)
    ids = set(generate(dag_sandbox, 60, window_start.timestamp(), window_end.timestamp() - 3600, country="FR"))
    monkeypatch.setattr(dagbag.get_dag("mip_orders__fr").get_task("wait_report"), "poke_interval", 1.0)
    dag_run = run_dag(
        "mip_orders__fr",
        logical_date=hour(5),
        conf={"window_start": window_start.isoformat(), "window_end": window_end.isoformat(), "path": "report"},
    )
    assert str(dag_run.state) == "success", task_states(dag_run)
    method, covered = db.execute(
        "SELECT method, covered_end FROM mip.order_intervals WHERE channel_id = 'fr'"
    ).fetchone()
    assert (method, covered) == ("report", window_end)
    assert db.execute("SELECT DISTINCT kind FROM mip.order_pages WHERE channel_id = 'fr'").fetchall() == [("report",)]
    assert assert_matches_truth(db, dag_sandbox, "fr", "FR", ids) == 60


def test_a_bad_window_param_fails_with_the_fix(run_dag, dag_sandbox, clean_orders, monkeypatch, capfd):
    use_sandbox_connection(monkeypatch, dag_sandbox)
    dag_run = run_dag("mip_orders__it", logical_date=hour(6), conf={"window_start": "yesterday"})
    assert task_states(dag_run)["extract"] == "failed"
    assert "give both window_start and window_end" in capfd.readouterr().out


def test_a_revoked_token_fails_the_run_at_once_and_the_interval_is_recorded_failed(
    run_dag, tmp_path, clean_orders, monkeypatch
):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path / "revoked", time_scale=600.0) as revoked:
        use_sandbox_connection(monkeypatch, revoked)
        revoked.admin("POST", "accounts/A1MIPDEMOSELLER/revoke")
        dag_run = run_dag("mip_orders__es", logical_date=hour(7))
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "extract")
    assert str(ti.state) == "failed" and ti.try_number == 1, "a revoked token must fail at once, not retry"
    status, error = clean_orders.execute(
        "SELECT status, error FROM mip.order_intervals WHERE channel_id = 'es'"
    ).fetchone()
    assert status == "failed" and "expired or revoked" in error and "mip credentials reset demo" in error
