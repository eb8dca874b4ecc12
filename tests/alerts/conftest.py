"""Alert tests: a real SMTP server and a real webhook receiver, the deployment's alert settings and connections
pointing at them (``AIRFLOW__MIP__ALERT_*``, ``AIRFLOW_CONN_MIP_ALERTS_*``). Other packages import ``alerts``."""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass

import pytest

from tests.alerts.receivers import Mail, Post, SmtpServer, WebhookReceiver

with contextlib.suppress(ImportError):
    from tests.dags.conftest import dagbag, run_dag  # noqa: F401

RECIPIENTS = ["ops@example.com", "data@example.com"]
SENDER = "mip-alerts@example.com"
SMTP_LOGIN = "mip-alerts"


@dataclass
class Alerts:
    smtp: SmtpServer
    webhook: WebhookReceiver
    path_token: str  # the webhook URL's secret part (chat webhooks carry one)
    bearer: str  # the webhook connection's Authorization header

    @property
    def mails(self) -> list[Mail]:
        return self.smtp.mails

    @property
    def posts(self) -> list[Post]:
        return self.webhook.posts

    def texts(self) -> list[str]:
        return [m.subject + "\n" + m.body for m in self.mails] + [json.dumps(p.body) for p in self.posts]

    def assert_no_secret(self, *more: str) -> None:
        for text in self.texts():
            for secret in [self.smtp.password, self.path_token, self.bearer, *more]:
                assert secret not in text, "a secret appeared in an alert"


@pytest.fixture(scope="module")
def alert_receivers():
    password = "smtp-" + secrets.token_hex(8)
    with SmtpServer(SMTP_LOGIN, password) as smtp, WebhookReceiver() as webhook:
        yield smtp, webhook


@pytest.fixture
def alerts(alert_receivers, monkeypatch) -> Alerts:
    """Alerts on (smtp and webhook) for the test, delivered to this module's receivers."""
    smtp, webhook = alert_receivers
    smtp.mails.clear()
    smtp.refused_logins.clear()
    webhook.posts.clear()
    webhook.status = 200
    path_token, bearer = "hook-" + secrets.token_hex(8), "bearer-" + secrets.token_hex(8)
    smtp_extra = {"from_email": SENDER, "disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 0}
    monkeypatch.setenv("AIRFLOW__MIP__ALERT_NOTIFIERS", "smtp, webhook")
    monkeypatch.setenv("AIRFLOW__MIP__ALERT_EMAIL_TO", ", ".join(RECIPIENTS))
    monkeypatch.setenv(
        "AIRFLOW_CONN_MIP_ALERTS_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp.port,
                "login": SMTP_LOGIN,
                "password": smtp.password,
                "extra": smtp_extra,
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_MIP_ALERTS_WEBHOOK",
        json.dumps(
            {
                "conn_type": "http",
                "host": f"http://127.0.0.1:{webhook.port}/hooks/{path_token}",
                "extra": {"Authorization": f"Bearer {bearer}"},
            }
        ),
    )
    return Alerts(smtp, webhook, path_token, bearer)
