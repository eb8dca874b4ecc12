"""Sending an alert through the notifiers the deployment switched on (docs/alerts.md).

Settings (Airflow configuration, section ``[mip]``, or ``AIRFLOW__MIP__<KEY>``), read when an alert is
sent, so a change needs no DAG re-parse:

- ``alert_notifiers``: comma-separated ``smtp`` and/or ``webhook``; empty (the default): alerts are only
  logged;
- ``alert_email_to``: the recipients of ``smtp`` (comma-separated);
- ``alert_smtp_conn_id`` (default ``mip_alerts_smtp``): an SMTP connection (host, port, login, password,
  extra ``from_email``) for the providers' ``SmtpNotifier``;
- ``alert_webhook_conn_id`` (default ``mip_alerts_webhook``): an HTTP connection whose host is the
  webhook's URL (headers such as ``Authorization`` in its extra) for the providers' ``HttpNotifier``,
  which POSTs the alert's JSON.

Credentials live only in those connections; the alert text never holds one.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from mip.airflow.alerts.message import Alert

log = logging.getLogger(__name__)
NOTIFIERS = ("smtp", "webhook")
SMTP_CONN_ID = "mip_alerts_smtp"
WEBHOOK_CONN_ID = "mip_alerts_webhook"
WEBHOOK_TIMEOUT_SECONDS = 30


class AlertSettingsError(ValueError):
    """The ``[mip] alert_*`` settings are wrong; the message names the setting and the rule."""


class AlertNotDelivered(RuntimeError):
    """A switched-on notifier could not deliver (the others were still tried)."""


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class AlertSettings:
    notifiers: tuple[str, ...]
    email_to: tuple[str, ...]
    smtp_conn_id: str
    webhook_conn_id: str

    @classmethod
    def from_conf(cls) -> AlertSettings:
        from airflow.sdk import conf

        notifiers = _listed(conf.get("mip", "alert_notifiers", fallback=""))
        unknown = [n for n in notifiers if n not in NOTIFIERS]
        if unknown:
            raise AlertSettingsError(
                f"[mip] alert_notifiers (AIRFLOW__MIP__ALERT_NOTIFIERS) names {', '.join(unknown)}: the notifiers "
                f"are {' and '.join(NOTIFIERS)}. Fix: list some of them, comma-separated (empty switches alerts off)"
            )
        email_to = _listed(conf.get("mip", "alert_email_to", fallback=""))
        if "smtp" in notifiers and not email_to:
            raise AlertSettingsError(
                "[mip] alert_notifiers has smtp but [mip] alert_email_to (AIRFLOW__MIP__ALERT_EMAIL_TO) is empty. "
                "Fix: set the recipients, comma-separated"
            )
        return cls(
            tuple(notifiers),
            tuple(email_to),
            conf.get("mip", "alert_smtp_conn_id", fallback="") or SMTP_CONN_ID,
            conf.get("mip", "alert_webhook_conn_id", fallback="") or WEBHOOK_CONN_ID,
        )


def _email_body(alert: Alert) -> str:
    return f'<pre style="font-family: monospace">{html.escape(alert.text)}</pre>'


def _notifier(name: str, alert: Alert, settings: AlertSettings) -> Any:
    if name == "smtp":
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        return SmtpNotifier(
            to=list(settings.email_to),
            subject=alert.subject,
            html_content=_email_body(alert),
            smtp_conn_id=settings.smtp_conn_id,
        )
    from airflow.providers.http.notifications.http import HttpNotifier

    return HttpNotifier(
        http_conn_id=settings.webhook_conn_id,
        json=alert.payload(),
        headers={"Content-Type": "application/json"},
        extra_options={"timeout": WEBHOOK_TIMEOUT_SECONDS},
    )


def deliver(alert: Alert, context: Any) -> list[str]:
    """Send ``alert`` through every switched-on notifier; returns their names. Always logs the alert.

    ``notify`` (not the notifier's ``__call__``) is used: the alert's text is final, it must not be
    rendered as a Jinja template (an error message may contain ``{{``).
    """
    log.warning("alert: %s\n%s", alert.subject, alert.text)
    settings = AlertSettings.from_conf()
    if not settings.notifiers:
        log.info("alerts are logged only: [mip] alert_notifiers is empty (docs/alerts.md)")
        return []
    failed = []
    for name in settings.notifiers:
        try:
            _notifier(name, alert, settings).notify(context)
        except Exception as exc:  # one broken channel must not silence the others
            log.error("alert not delivered by %s: %s: %s", name, type(exc).__name__, exc)
            failed.append(name)
    if failed:
        connections = ", ".join(settings.smtp_conn_id if n == "smtp" else settings.webhook_conn_id for n in failed)
        raise AlertNotDelivered(
            f"the alert of {alert.dag_id} was not delivered by {', '.join(failed)} (the log says why). "
            f"Fix: check the connection(s) {connections} and the [mip] alert_* settings (docs/alerts.md)"
        )
    return list(settings.notifiers)
