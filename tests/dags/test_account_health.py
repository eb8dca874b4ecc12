"""mip_account_health through dag.test() against the sandbox; secrets never reach logs or tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states


def latest_health(db) -> tuple:
    return db.execute(
        "SELECT status, authorization_age_days, message FROM mip.account_health WHERE account_id = 'demo'"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()


def test_healthy_account(run_dag, clean_faults, monkeypatch, db):
    use_sandbox_connection(monkeypatch, clean_faults)
    dag_run = run_dag("mip_account_health")
    assert str(dag_run.state) == "success", task_states(dag_run)
    status, age, message = latest_health(db)
    assert (status, age) == ("ok", 0), message


def test_authorization_older_than_90_days_warns_but_runs(run_dag, clean_faults, monkeypatch, db):
    authorized = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    use_sandbox_connection(monkeypatch, clean_faults, authorization_date=authorized)
    dag_run = run_dag("mip_account_health")
    assert str(dag_run.state) == "success"
    status, age, message = latest_health(db)
    assert (status, age) == ("warning", 100)
    assert "re-authorizing every quarter is advised" in message


def test_authorization_older_than_350_days_fails(run_dag, clean_faults, monkeypatch, db):
    authorized = (datetime.now(UTC) - timedelta(days=352)).isoformat()
    use_sandbox_connection(monkeypatch, clean_faults, authorization_date=authorized)
    dag_run = run_dag("mip_account_health")
    assert task_states(dag_run)["check__demo"] == "failed"
    status, _age, message = latest_health(db)
    assert status == "failed" and "expires in 13 days" in message and "reset the credentials" in message


@pytest.fixture
def revoked_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("revoked-spapi"), time_scale=60.0) as running:
        running.admin("POST", "accounts/A1MIPDEMOSELLER/revoke")
        yield running


def test_revoked_credentials_fail_without_retries_and_secrets_stay_out_of_logs(
    run_dag, revoked_sandbox, monkeypatch, db, capfd
):
    extra = use_sandbox_connection(monkeypatch, revoked_sandbox)
    secrets = [extra["lwa_client_secret"], extra["refresh_token"]]
    dag_run = run_dag("mip_account_health")
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "check__demo")
    assert str(ti.state) == "failed" and ti.try_number == 1, "a revoked token must fail at once, not retry"
    status, _, message = latest_health(db)
    assert status == "failed" and "reset the credentials of account demo" in message

    captured = capfd.readouterr()
    haystacks = {"stdout": captured.out, "stderr": captured.err}
    logs = Path(__import__("os").environ["AIRFLOW_HOME"]) / "logs"
    for path in logs.rglob("*") if logs.exists() else []:
        if path.is_file():
            haystacks[str(path)] = path.read_text(errors="replace")
    assert "reset the credentials of account demo" in captured.out + captured.err, "the task's log was not captured"
    mip_rows = db.execute("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM mip.account_health) t").fetchone()[0]
    haystacks["mip.account_health"] = mip_rows or ""
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret appeared in {where}"
