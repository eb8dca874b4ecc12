"""Alerts delivered for real: MIP DAGs run with dag.test() against the sandbox fail (a revoked token) or warn (an
old authorization), and their notifiers send to a real SMTP server and a real webhook receiver. The refused
migration plan's alert is tested with the migration DAG (tests/migration/test_dag.py)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.conftest import RECIPIENTS, SENDER, SMTP_LOGIN
from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states

RESET_FIX = "reset the credentials of account demo (see docs/accounts.md, 'Reset credentials')"


@pytest.fixture(scope="module")
def revoked(tmp_path_factory):
    """A sandbox whose demo seller revoked MIP's authorization."""
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("alerts-revoked-spapi"), time_scale=600.0) as running:
        running.admin("POST", "accounts/A1MIPDEMOSELLER/revoke")
        yield running


def hour(hours_ago: int) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)


def test_a_revoked_token_fails_an_orders_run_and_the_alert_names_channel_interval_error_and_fix(
    run_dag, revoked, alerts, monkeypatch, db
):
    extra = use_sandbox_connection(monkeypatch, revoked)
    dag_run = run_dag("mip_orders__es", logical_date=hour(9))
    db.execute("DELETE FROM mip.order_intervals WHERE dag_id = %s AND run_id = %s", (dag_run.dag_id, dag_run.run_id))
    db.commit()
    assert task_states(dag_run)["extract"] == "failed"

    assert len(alerts.mails) == 1 and len(alerts.posts) == 1, "one failed task, one alert per notifier"
    mail, post = alerts.mails[0], alerts.posts[0]
    assert (mail.sender, mail.recipients, mail.login) == (SENDER, RECIPIENTS, SMTP_LOGIN)
    assert mail.subject == "[MIP] mip_orders__es failed: channel es (account demo)"
    start, end = dag_run.data_interval_start.isoformat(), dag_run.data_interval_end.isoformat()
    lines = mail.text.splitlines()
    assert lines[:3] == [
        f"MIP failure: mip_orders__es (task extract, run {dag_run.run_id})",
        "Where: channel es (account demo)",
        f"Interval: {start} to {end} (data interval)",
    ]
    assert lines[3].startswith("Error: the Amazon authorization of account 'demo' is expired or revoked")
    assert lines[4].startswith(f"Fix: {RESET_FIX}: Multi-Channel > Marketplaces > Reset credentials")
    assert lines[5].startswith("Log: http") and "/dags/mip_orders__es/runs/" in lines[5]

    assert post.path == f"/hooks/{alerts.path_token}" and post.headers["authorization"] == f"Bearer {alerts.bearer}"
    body = post.body
    assert {k: body[k] for k in ("kind", "dag_id", "task_id", "run_id", "channel", "account", "plan_id")} == {
        "kind": "failure",
        "dag_id": "mip_orders__es",
        "task_id": "extract",
        "run_id": dag_run.run_id,
        "channel": "es",
        "account": "demo",
        "plan_id": None,
    }
    assert body["interval"] == {"start": start, "end": end, "source": "data interval"}
    assert "expired or revoked" in body["error"] and body["fix"].startswith(RESET_FIX)
    assert body["text"] == f"{mail.subject}\n{mail.text}"
    alerts.assert_no_secret(extra["refresh_token"], extra["lwa_client_secret"])


def test_an_authorization_older_than_90_days_warns_by_mail_and_webhook(run_dag, clean_faults, alerts, monkeypatch):
    authorized = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    use_sandbox_connection(monkeypatch, clean_faults, authorization_date=authorized)
    dag_run = run_dag("mip_account_health")
    assert str(dag_run.state) == "success", task_states(dag_run)

    assert [m.subject for m in alerts.mails] == ["[MIP] mip_account_health warns: account demo"]
    text = alerts.mails[0].text
    assert (
        "Warning: account demo: the Amazon authorization is 100 days old (265 days left); re-authorizing every "
        "quarter is advised.\n"
    ) in text
    assert f"Fix: {RESET_FIX}\n" in text
    [post] = alerts.posts
    assert (post.body["kind"], post.body["account"], post.body["task_id"]) == ("warning", "demo", "check__demo")
    assert post.body["fix"] == RESET_FIX


def test_an_authorization_about_to_expire_fails_the_health_check_and_alerts(run_dag, clean_faults, alerts, monkeypatch):
    authorized = (datetime.now(UTC) - timedelta(days=352)).isoformat()
    use_sandbox_connection(monkeypatch, clean_faults, authorization_date=authorized)
    dag_run = run_dag("mip_account_health")
    assert task_states(dag_run)["check__demo"] == "failed"
    [mail] = alerts.mails
    assert mail.subject == "[MIP] mip_account_health failed: account demo"
    assert "is 352 days old and expires in 13 days (365-day limit)." in mail.text
    assert "Fix: reset the credentials now (see docs/accounts.md, 'Reset credentials')" in mail.text
    assert [p.body["kind"] for p in alerts.posts] == ["failure"]


def test_a_broken_notifier_does_not_silence_the_other_and_an_unheard_warning_fails_the_check(
    run_dag, clean_faults, alerts, monkeypatch
):
    alerts.webhook.status = 500
    authorized = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    use_sandbox_connection(monkeypatch, clean_faults, authorization_date=authorized)
    dag_run = run_dag("mip_account_health")
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "check__demo")
    assert str(ti.state) == "failed" and ti.try_number == 1, "an undelivered warning fails at once"
    # the warning reached the mailbox; the failure that followed says which notifier to fix
    assert [m.subject for m in alerts.mails] == [
        "[MIP] mip_account_health warns: account demo",
        "[MIP] mip_account_health failed: account demo",
    ]
    failure = alerts.mails[1].text
    assert "\n- the alert of mip_account_health was not delivered by webhook (the log says why).\n" in failure
    assert "\n- check the connection(s) mip_alerts_webhook and the [mip] alert_* settings (docs/alerts.md)\n" in failure
    assert [p.body["kind"] for p in alerts.posts] == ["warning", "failure"]  # both tried, both refused


def test_a_secret_in_an_error_message_is_masked_in_the_alert(dagbag, alerts):
    """A secret the task read (and masked, as SpApiHook does) that ends up in an exception's text shows as ***."""
    from airflow.sdk.log import mask_secret

    from mip.airflow.common import DEFAULT_ARGS

    token = "Atzr|" + secrets.token_hex(20)
    mask_secret(token, "refresh_token")
    [notifier] = DEFAULT_ARGS["on_failure_callback"]
    context = {"dag": dagbag.get_dag("mip_orders__it"), "run_id": "manual__test", "exception": ValueError(token)}
    notifier(context)  # as Airflow's task runner calls it
    [mail] = alerts.mails
    assert mail.subject == "[MIP] mip_orders__it failed: channel it (account demo)"
    assert "Error: ValueError: ***\n" in mail.text
    alerts.assert_no_secret(token)


def test_wrong_alert_settings_are_refused_naming_the_setting(monkeypatch):
    from mip.airflow.alerts.delivery import AlertSettings, AlertSettingsError

    monkeypatch.setenv("AIRFLOW__MIP__ALERT_NOTIFIERS", "smtp, pager")
    with pytest.raises(
        AlertSettingsError, match=r"\[mip\] alert_notifiers \(AIRFLOW__MIP__ALERT_NOTIFIERS\) names pager"
    ):
        AlertSettings.from_conf()
    monkeypatch.setenv("AIRFLOW__MIP__ALERT_NOTIFIERS", "smtp")
    monkeypatch.delenv("AIRFLOW__MIP__ALERT_EMAIL_TO", raising=False)
    with pytest.raises(AlertSettingsError, match=r"\[mip\] alert_email_to .* is empty"):
        AlertSettings.from_conf()
    monkeypatch.setenv("AIRFLOW__MIP__ALERT_NOTIFIERS", "webhook")
    assert AlertSettings.from_conf().webhook_conn_id == "mip_alerts_webhook"
