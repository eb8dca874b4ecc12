"""Alerts: task failures of every MIP DAG and the account health warnings, sent through Airflow notifiers
(SMTP and a webhook, switched on per deployment: ``mip.airflow.alerts.delivery``, docs/alerts.md).

``failure_alerts()`` is every MIP task's ``on_failure_callback`` (``mip.airflow.common.DEFAULT_ARGS``);
tasks that only warn call ``send_warning``. Both run in the task's process, after its last try.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

from mip.airflow.alerts.delivery import deliver
from mip.airflow.alerts.message import build_alert

log = logging.getLogger(__name__)


class FailureAlert(BaseNotifier):
    """Alerts a task's failure, naming ``channel``/``account`` (default: the DAG's ``channel:``/``account:`` tags)."""

    def __init__(self, *, channel: str | None = None, account: str | None = None):
        super().__init__()
        self.channel, self.account = channel, account

    def notify(self, context: Any) -> None:
        error = context.get("exception")
        if getattr(error, "alerted_upstream", False):
            log.info("no alert: an upstream task of this run failed for the same reason and alerted it")
            return
        deliver(build_alert(context, "failure", error, channel=self.channel, account=self.account), context)


def failure_alerts(*, channel: str | None = None, account: str | None = None) -> list[BaseNotifier]:
    return [FailureAlert(channel=channel, account=account)]


def send_warning(context: Any, message: str, *, channel: str | None = None, account: str | None = None) -> list[str]:
    """Alert a warning of the running task (``message`` lines may end with ``Fix: ...``)."""
    return deliver(build_alert(context, "warning", message, channel=channel, account=account), context)
