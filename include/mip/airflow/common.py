"""What every MIP DAG shares: default args, tags, documentation, the channel check task."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, cast

from airflow.sdk import DAG, task

from mip.airflow.alerts import failure_alerts
from mip.airflow.docs import pipeline_doc
from mip.config import Channel, Topology

log = logging.getLogger(__name__)

START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
DEFAULT_ARGS = {
    "owner": "mip",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    # a task's last failure reaches people through the notifiers the deployment switched on (docs/alerts.md)
    "on_failure_callback": failure_alerts(),
}


# map_index_template of MIP's mapped tasks: the grid shows the label a task sets (label_mapped_task)
MAP_LABEL = "{{ mip_label }}"
# the XCom key of a skipped task's reason, shown in the task's XCom tab of the grid
SKIP_REASON_KEY = "skipped_because"


def label_mapped_task(label: str) -> None:
    """Name this mapped task instance in the grid (instead of its map index)."""
    from airflow.sdk import get_current_context

    context: dict[str, Any] = cast(dict[str, Any], get_current_context())  # a key of MIP's own
    context["mip_label"] = label


def skip(reason: str) -> NoReturn:
    """Skip the running task, saying why where the user looks: the task's XCom ``skipped_because``
    (Airflow 3 tasks cannot set their own note) and its log."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    get_current_context()["ti"].xcom_push(SKIP_REASON_KEY, reason)
    raise AirflowSkipException(reason)


def sp_api_pool(account_id: str) -> str:
    """The Airflow pool bounding how many tasks call SP-API for one seller account at once."""
    return f"sp_api__{account_id}"


def channel_tags(pipeline: str, channel: Channel) -> list[str]:
    return [f"pipeline:{pipeline}", f"channel:{channel.id}", f"account:{channel.account}", f"role:{channel.role}"]


def channel_doc(title: str, what: str, topology: Topology, channel: Channel) -> str:
    """A channel DAG's doc_md: its title, ``what`` (its docs page's dag-doc section) and the channel's facts."""
    account = topology.account_of(channel)
    market = channel.marketplace
    link = (
        f"\n- **Linked main channel**: `{channel.linked_main}` (Build International Listings)"
        if (channel.linked_main)
        else ""
    )
    return (
        f"### {title} — channel `{channel.id}`\n\n{what}\n\n"
        f"- **Marketplace**: {market.country} (`{market.marketplace_id}`, {market.currency}, region {market.region})\n"
        f"- **Role**: {channel.role}{link}\n"
        f"- **Account**: `{account.id}` (Seller ID `{account.seller_id}`, connection `{account.connection_id}`)\n"
    )


def channel_dag(pipeline: str, topology: Topology, channel: Channel, *, title: str, **kwargs: Any) -> DAG:
    """The DAG ``mip_<pipeline>__<channel>`` with MIP's conventions, its doc_md from ``docs/pipelines/<pipeline>.md``;
    ``kwargs`` go to ``DAG``."""
    kwargs.setdefault("start_date", START_DATE)
    kwargs.setdefault("catchup", False)
    kwargs.setdefault("max_active_runs", 1)
    return DAG(
        dag_id=f"mip_{pipeline}__{channel.id}",
        default_args=DEFAULT_ARGS,
        tags=channel_tags(pipeline, channel),
        doc_md=channel_doc(title, pipeline_doc(pipeline), topology, channel),
        **kwargs,
    )


@task
def check_channel(channel_id: str) -> None:
    """Refuse to run when the topology changed this channel's registered role or link."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.config import load_topology
    from mip.store import registry

    topology = load_topology()
    with mip_db() as conn:
        try:
            added = registry.deploy(conn, topology, [channel_id])
        except registry.RegistryConflict as exc:
            raise AirflowFailException(str(exc)) from None
    if added:
        log.info("channel %s registered (first deployment)", channel_id)
