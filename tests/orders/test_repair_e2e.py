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
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


@pytest.fixture(scope="module")
def airflow_metadata(tmp_path_factory):
    """A migrated Airflow metadata database of this module's own (dropped afterwards)."""
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


@pytest.fixture
def stack(airflow_metadata, mip_url, topology_file, tmp_path, clean_orders):
    from mipdist.stack import AirflowStack, StackConfig

    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path / "spapi", time_scale=600.0) as sandbox:
        config = StackConfig(
            name="e2e",
            executor="LocalExecutor",
            workers=0,
            airflow_url=airflow_metadata,
            mip_url=mip_url,
            topology=topology_file,
            home=tmp_path / "airflow",
            extra_env=(
                # scheduled and Asset-triggered runs on; every DAG but the two under test stays paused
                ("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "True"),
                ("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True"),
                ("AIRFLOW__CORE__PARALLELISM", "8"),
                ("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "2"),
                ("AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC", "2"),
                ("MIP_ORDERS_REPORT_POKE_SECONDS", "2"),
            ),
        )
        stack = AirflowStack(config)
        try:
            run(
                [sys.executable, "-m", "mip.airflow.setup", "--sandbox", sandbox.base_url],
                stack.env,
                "pools and connections (mip.airflow.setup)",
            )
            api = stack.start()
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
    run(
        stack.airflow(
            "backfill",
            "create",
            "--dag-id",
            ORDERS_DAG,
            "--from-date",
            period_start.isoformat(),
            "--to-date",
            (backfill_end - timedelta(hours=1)).isoformat(),
            "--reprocess-behavior",
            "failed",
        ),
        stack.env,
        "airflow backfill create",
    )

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
