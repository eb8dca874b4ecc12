"""The issue's end to end: an outage of the credentials, a backfill that fails, a reset, the repair.

Runs Airflow for real (api-server, scheduler, dag-processor, triggerer; LocalExecutor) on an
Airflow metadata database of its own and the session's mip database, against a sandbox of its
own, so that the backfill, the Asset-triggered repair DAG and its deferrable TriggerDagRunOperator
behave exactly as in a deployment (dag.test() has no scheduler to run the runs a trigger creates).

1. the sandbox revokes the demo token; ``airflow backfill create --dag-id mip_orders__it ...
   --reprocess-behavior failed`` creates three hourly runs, which fail at once with the credential
   error (no retry), and record their intervals failed in mip.order_intervals;
2. ``mip credentials reset demo --refresh-token ...`` stores a new authorization and emits the
   credentials Asset, which triggers ``mip_repair__demo``;
3. the repair clears the failed runs (they turn green with their own data intervals) and imports
   the hours no run tried with a new run; then mip.orders equals the sandbox's truth for the whole
   period, without duplicates.

Also here, on the same machinery: the documented ``airflow backfill create`` alone fills a window
that holds a manual run, and a 30-day outage is repaired in full (no horizon, one report window).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.orders.conftest import assert_matches_truth, generate, truth
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

ORDERS_DAG, REPAIR_DAG = "mip_orders__it", "mip_repair__demo"


def run(command: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture
def airflow_metadata(tmp_path_factory):
    """A migrated Airflow metadata database of the test's own (dropped afterwards): runs, logical dates and
    connections of one case never meet another's."""
    from mip.store.server import drop_database, ensure_database
    from tests.conftest import SESSION

    name = f"{SESSION['name']}_e2e_{uuid.uuid4().hex[:6]}"
    url = ensure_database(SESSION["server"], name)
    sqlalchemy_url = "postgresql+psycopg2://" + url.partition("://")[2]
    home = tmp_path_factory.mktemp("e2e-migrate")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url, AIRFLOW__CORE__LOAD_EXAMPLES="False"
    )
    run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env, "airflow db migrate")
    yield sqlalchemy_url
    drop_database(SESSION["server"], name)


def e2e_config(name: str, airflow_metadata: str, mip_url: str, topology: Path, home: Path, *extra_env: tuple[str, str]):
    """A one-machine stack (LocalExecutor) with scheduled and Asset-triggered runs on and every DAG paused
    at creation: a test unpauses the DAGs it is about."""
    from mipdist.stack import StackConfig

    return StackConfig(
        name=name,
        executor="LocalExecutor",
        workers=0,
        airflow_url=airflow_metadata,
        mip_url=mip_url,
        topology=topology,
        home=home,
        extra_env=(
            ("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "True"),
            ("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True"),
            ("AIRFLOW__CORE__PARALLELISM", "8"),
            ("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "2"),
            ("AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC", "2"),
            ("MIP_ORDERS_REPORT_POKE_SECONDS", "2"),
            # the account's connection points at the local sandbox (mip.amazon.endpoints)
            ("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "True"),
            # a loaded machine (the suite shares 2 cores) answers a task's first call late: with the default
            # 5 s the worker retries /run while the first call holds the task's row, the retries take the
            # api-server's pooled connections, and it stalls until the pool times out
            ("AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT", "60"),
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE", "12"),
            *extra_env,
        ),
    )


@pytest.fixture
def stack(airflow_metadata, mip_url, topology_file, tmp_path, clean_orders):
    from mipdist.stack import AirflowStack

    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path / "spapi", time_scale=600.0) as sandbox:
        config = e2e_config("e2e", airflow_metadata, mip_url, topology_file, tmp_path / "airflow")
        stack = AirflowStack(config)
        try:
            run(
                [sys.executable, "-m", "mip.airflow.setup", "--sandbox", sandbox.base_url],
                stack.env,
                "pools and connections (mip.airflow.setup)",
            )
            api = stack.start()
            # the api-server answers nothing while it prepares a task's first start (seconds, a minute on a
            # machine shared by several test runs): wait for it rather than fail the case
            api.client.timeout = httpx.Timeout(180)
            api.wait_for_dags([ORDERS_DAG, REPAIR_DAG], timeout=600)
            yield stack, api, sandbox
        finally:
            stack.stop()


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def runs_of(api, dag_id: str) -> dict[str, dict]:
    found = api._json("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
    return {r["dag_run_id"]: r for r in found}


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_backfill_fails_during_the_outage_and_the_repair_turns_it_green(stack, db):
    stack, api, sandbox = stack
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    period_start, backfill_end = hour - timedelta(hours=7), hour - timedelta(hours=4)
    period_end = hour - timedelta(hours=2)  # 4h-2h before: hours no run tries until the repair
    ids = set(generate(sandbox, 45, period_start.timestamp(), backfill_end.timestamp() - 900))
    ids |= set(generate(sandbox, 15, backfill_end.timestamp(), period_end.timestamp() - 900))

    sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/revoke")
    for dag_id in (ORDERS_DAG, REPAIR_DAG):
        api._json("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    backfill(stack, period_start, backfill_end)

    def backfill_runs() -> dict[str, dict]:
        return {k: v for k, v in runs_of(api, ORDERS_DAG).items() if v["run_type"] == "backfill"}

    failed = wait_until(
        lambda: (lambda r: r if len(r) == 3 and all(v["state"] == "failed" for v in r.values()) else None)(
            backfill_runs()
        ),
        timeout=300,
        every=2,
        progress=lambda: api.task_progress([ORDERS_DAG]),
        what="three failed backfill runs",
    )
    assert sorted((instant(v["data_interval_start"]), instant(v["data_interval_end"])) for v in failed.values()) == [
        (period_start + timedelta(hours=n), period_start + timedelta(hours=n + 1)) for n in range(3)
    ]
    for run_id in failed:
        extract = next(t for t in api.task_instances(ORDERS_DAG, run_id) if t.task_id == "extract")
        assert (extract.state, extract.try_number) == ("failed", 1), "the credential error must not be retried"
    recorded = db.execute(
        "SELECT run_id, status, error FROM mip.order_intervals WHERE channel_id = 'it' AND run_id = ANY(%s)",
        (sorted(failed),),
    ).fetchall()
    assert len(recorded) == 3 and all(s == "failed" and "mip credentials reset demo" in e for _, s, e in recorded)
    # Unpausing also made the scheduler start the latest hour's run, which fails on the revoked token too. Let it
    # finish first: still running when the repair lists the gaps, it is no gap yet, and its failure afterwards
    # left that hour for verify to name (a race CI lost once).
    wait_until(
        lambda: (lambda runs: runs and all(r["state"] in ("success", "failed") for r in runs))(
            [r for r in runs_of(api, ORDERS_DAG).values() if r["run_type"] == "scheduled"]
        ),
        timeout=300,
        every=2,
        progress=lambda: api.task_progress([ORDERS_DAG]),
        what="the scheduled run of the latest hour to finish",
    )

    new_token = sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/refresh_token")["refresh_token"]
    out = run(
        [str(Path(sys.executable).parent / "mip"), "credentials", "reset", "demo", "--refresh-token", new_token],
        stack.env,
        "mip credentials reset",
    )
    assert "mip_repair__demo" in out

    repair = wait_until(
        lambda: [r for r in runs_of(api, REPAIR_DAG).values() if r["state"] in ("success", "failed")],
        timeout=300,
        every=3,
        progress=lambda: api.task_progress([ORDERS_DAG, REPAIR_DAG]),
        what="the repair run to finish",
    )
    assert [r["state"] for r in repair] == ["success"], api.task_instances(REPAIR_DAG, repair[0]["dag_run_id"])
    after = runs_of(api, ORDERS_DAG)
    assert all(after[run_id]["state"] == "success" for run_id in failed), "the failed runs turned green in place"
    assert all(after[run_id]["data_interval_start"] == failed[run_id]["data_interval_start"] for run_id in failed)
    repaired = [r for r in after if r.startswith("repair__")]
    assert len(repaired) == 1 and after[repaired[0]]["state"] == "success", sorted(after)

    expected = {k for k, v in truth(sandbox).items() if period_start <= instant(v["LastUpdateDate"]) < period_end}
    assert expected == ids
    assert_matches_truth(db, sandbox, "it", "IT", ids)
    assert db.execute(
        "SELECT count(*), count(DISTINCT amazon_order_id) FROM mip.orders WHERE channel_id = 'it' "
        "AND amazon_order_id = ANY(%s)",
        (sorted(ids),),
    ).fetchone() == (60, 60)
    statuses = dict(
        db.execute(
            "SELECT run_id, status FROM mip.order_intervals WHERE channel_id = 'it' AND run_id = ANY(%s)",
            (sorted(failed) + repaired,),
        ).fetchall()
    )
    assert set(statuses.values()) == {"imported"} and len(statuses) == 4


def backfill(stack, start_hour: datetime, end_hour: datetime) -> None:
    """The README's command for the hours [start_hour, end_hour): logical dates are the hours' ends."""
    run(
        stack.airflow(
            "backfill",
            "create",
            "--dag-id",
            ORDERS_DAG,
            "--from-date",
            (start_hour + timedelta(hours=1)).isoformat(),
            "--to-date",
            end_hour.isoformat(),
            "--reprocess-behavior",
            "failed",
        ),
        stack.env,
        "airflow backfill create",
    )


def imported_hours(db, start: datetime, end: datetime) -> list[datetime]:
    """The hours in [start, end) an imported interval of channel it covers whole."""
    from mip.orders import intervals
    from mip.orders.sellers import SellerPeriod

    periods = [SellerPeriod("A1MIPDEMOSELLER", None, None)]
    missing = {g.start for g in intervals.gaps(db, "it", "@hourly", periods) if start <= g.start < end}
    db.commit()
    hours = int((end - start).total_seconds() // 3600)
    return [start + timedelta(hours=n) for n in range(hours) if start + timedelta(hours=n) not in missing]


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_the_documented_backfill_alone_fills_a_window_that_holds_a_manual_run(stack, db):
    """A manual run with logical date L imports [L - 1 h, L), as a scheduled or backfilled run of L does: the
    backfill skips L (it exists, successful) and loses nothing. (With data-interval logical dates a manual run of
    L imported the hour before L while the backfill took L for the hour after it, which then nobody imported.)"""
    stack, api, sandbox = stack
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    window_start, window_end = hour - timedelta(hours=8), hour - timedelta(hours=3)
    ids: set[str] = set()
    for n in range(5):
        start = (window_start + timedelta(hours=n)).timestamp()
        ids |= set(generate(sandbox, 6, start, start + 1500))
    api._json("PATCH", f"/api/v2/dags/{ORDERS_DAG}", json={"is_paused": False})
    manual_date = window_start + timedelta(hours=3)
    api.trigger(ORDERS_DAG, "manual__in_the_window", manual_date)
    manual = api.wait_for_runs([(ORDERS_DAG, "manual__in_the_window")], timeout=900)
    assert manual == {(ORDERS_DAG, "manual__in_the_window"): "success"}
    manual_run = runs_of(api, ORDERS_DAG)["manual__in_the_window"]
    assert (instant(manual_run["data_interval_start"]), instant(manual_run["data_interval_end"])) == (
        manual_date - timedelta(hours=1),
        manual_date,
    )

    backfill(stack, window_start, window_end)
    done = wait_until(
        lambda: (lambda r: r if len(r) == 4 and all(v["state"] == "success" for v in r.values()) else None)(
            {k: v for k, v in runs_of(api, ORDERS_DAG).items() if v["run_type"] == "backfill"}
        ),
        timeout=900,
        every=2,
        what="four successful backfill runs",
        progress=lambda: api.task_progress([ORDERS_DAG]),
    )
    assert manual_date not in {instant(v["logical_date"]) for v in done.values()}, "L has its manual run"
    assert imported_hours(db, window_start, window_end) == [window_start + timedelta(hours=n) for n in range(5)]
    expected = {k for k, v in truth(sandbox).items() if window_start <= instant(v["LastUpdateDate"]) < window_end}
    assert expected == ids
    assert_matches_truth(db, sandbox, "it", "IT", ids)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_a_30_day_outage_is_repaired_in_full(stack, db):
    """The channel imported one hour 30 days ago, then nothing: the repair (no horizon) imports the 30 days in one
    run and verifies. 90 orders fit one getOrders page: paging is cheaper than the orders report."""
    stack, api, sandbox = stack
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first_end = hour - timedelta(days=30)
    outage_end = hour - timedelta(hours=6)
    ids = set(generate(sandbox, 5, (first_end - timedelta(hours=1)).timestamp(), first_end.timestamp() - 1800))
    ids |= set(generate(sandbox, 90, first_end.timestamp(), outage_end.timestamp()))
    for dag_id in (ORDERS_DAG, REPAIR_DAG):
        api._json("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    api.trigger(ORDERS_DAG, "manual__first_hour", first_end)
    assert api.wait_for_runs([(ORDERS_DAG, "manual__first_hour")], timeout=900) == {
        (ORDERS_DAG, "manual__first_hour"): "success"
    }

    api.trigger(REPAIR_DAG, "manual__repair", datetime.now(UTC))
    states = api.wait_for_runs([(REPAIR_DAG, "manual__repair")], timeout=900)
    assert states == {(REPAIR_DAG, "manual__repair"): "success"}, api.task_instances(REPAIR_DAG, "manual__repair")
    repaired = db.execute(
        "SELECT method, interval_start, interval_end, status FROM mip.order_intervals "
        "WHERE channel_id = 'it' AND starts_with(run_id, 'repair__')"
    ).fetchall()
    db.commit()
    assert len(repaired) == 1, repaired
    method, start, end, status = repaired[0]
    assert (method, start, status) == ("api", first_end, "imported") and end - start > timedelta(days=29)
    outage_hours = [first_end - timedelta(hours=1) + timedelta(hours=n) for n in range(30 * 24)]
    assert imported_hours(db, outage_hours[0], hour - timedelta(hours=1)) == outage_hours
    expected = {k for k, v in truth(sandbox).items() if instant(v["LastUpdateDate"]) < outage_end}
    assert expected == ids
    assert_matches_truth(db, sandbox, "it", "IT", ids)
