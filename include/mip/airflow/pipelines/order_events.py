"""``mip_order_events__<account>``: the orders Amazon's ORDER_CHANGE notifications name, within minutes.

Scheduled on the account's queue Asset (``mip://accounts/<account>/order-events``) whose ``AssetWatcher``
runs a ``MessageQueueTrigger`` (scheme ``sqs``: the Amazon provider's ``SqsSensorTrigger``) in the
triggerer: it long-polls the SQS queue of ``accounts[].order_events.queue_url`` (confined by
mip.orders.queue) with the ``aws`` connection ``accounts[].order_events.aws_conn_id`` (credentials, and
the endpoint of a sandbox queue), deletes what it received and emits an Asset event carrying the
messages. Each run imports exactly the orders they name (mip.orders.events, through the account's
gateway, rate budget and SP-API pool) and records each message's outcome in ``mip.order_events``.
A message whose run failed is not lost for good: the hourly ``mip_orders__<channel>`` imports every
change of its window and counts what events had not brought (``missed_by_events``).

An account without ``order_events`` gets the DAG unscheduled (manual runs find no message).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Asset, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE, sp_api_pool
from mip.airflow.docs import pipeline_doc
from mip.config import Account, Topology

MAX_MESSAGES = 10  # SQS's maximum per receive
LONG_POLL_SECONDS = 10  # one receive waits this long for a message (SQS allows 20)
EMPTY_POLL_PAUSE_SECONDS = 1  # the trigger's pause after an empty receive


def queue_asset(account: Account) -> Asset | None:
    """The Asset of the account's ORDER_CHANGE queue, watched by an SQS MessageQueueTrigger (None: no queue)."""
    if account.order_events is None:
        return None
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
    from airflow.sdk import AssetWatcher

    from mip.airflow.sandbox_rule import configured_queue

    queue = configured_queue(account.order_events.queue_url)  # QueueRefused: the DAG does not load, with why
    trigger = MessageQueueTrigger(
        scheme="sqs",
        sqs_queue=queue.url,
        aws_conn_id=account.order_events.aws_conn_id,
        region_name=queue.region,
        max_messages=MAX_MESSAGES,
        wait_time_seconds=LONG_POLL_SECONDS,
        waiter_delay=EMPTY_POLL_PAUSE_SECONDS,
    )
    return Asset(
        f"mip://accounts/{account.id}/order-events",
        watchers=[AssetWatcher(name=f"mip_order_events_{account.id}", trigger=trigger)],
    )


def received_messages(triggering_asset_events: Any) -> list[dict]:
    """The SQS messages the run's Asset events carry (``extra.payload.message_batch`` of each)."""
    found: list[dict] = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            payload = (getattr(event, "extra", None) or {}).get("payload") or {}
            found.extend(payload.get("message_batch") or [])
    return found


@task(task_id="import_events")
def import_order_events(account_id: str, channel_id: str) -> dict[str, int]:
    from airflow.sdk import get_current_context

    from mip.airflow.adapter import run_step
    from mip.config import load_topology
    from mip.orders.events import import_events

    messages = received_messages(get_current_context().get("triggering_asset_events"))
    channels = [c for c in load_topology().channels if c.account == account_id]
    return run_step(import_events, channel_id, gateway=True, messages=messages, channels=channels)


def build(topology: Topology, account: Account) -> DAG:
    asset = queue_asset(account)
    channels = sorted((c for c in topology.channels if c.account == account.id), key=lambda c: (c.role, c.id))
    with DAG(
        dag_id=f"mip_order_events__{account.id}",
        schedule=[asset] if asset is not None else None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=4,
        default_args=DEFAULT_ARGS,
        tags=["pipeline:order_events", f"account:{account.id}"],
        doc_md=f"### Orders in minutes — account `{account.id}`"
        + ("" if asset is not None else " (events off: no `order_events` in the topology)")
        + "\n\n"
        + pipeline_doc("order_events"),
    ) as dag:
        import_order_events.override(pool=sp_api_pool(account.id))(account.id, channels[0].id)
    return dag
