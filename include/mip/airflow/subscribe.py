"""A topology account's ORDER_CHANGE subscription (mip.orders.subscribe), the one path of
``mip notifications subscribe ACCOUNT`` and of the Marketplaces page once a connect stored the credentials.

The queue is the topology's (``accounts[].order_events.queue_url``), never a form's or a request's, checked
under the deployment's sandbox rule before any call (``configured_queue``; tests/security/
test_order_events_queue.py); the seller is the one stored in the account's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import RetryPolicy
    from mip.config import Account, Topology
    from mip.orders.queue import Queue


class NotSubscribable(ValueError):
    """The topology does not let the account be subscribed (no ``order_events``, a refused queue, no channel);
    refused before any call."""


def _checked_queue(topology: Topology, account: Account) -> tuple[Queue, str]:
    """(the account's checked queue, the country its Notifications API calls go to); NotSubscribable otherwise."""
    from mip.airflow.sandbox_rule import configured_queue
    from mip.orders.queue import QueueRefused

    if account.order_events is None:
        raise NotSubscribable(f"account {account.id} has no order_events.queue_url in the topology")
    try:
        queue = configured_queue(account.order_events.queue_url)
    except QueueRefused as exc:
        raise NotSubscribable(str(exc)) from None
    country = next((c.country for c in topology.channels if c.account == account.id), None)
    if country is None:
        raise NotSubscribable(f"account {account.id} has no channel in the topology")
    return queue, country


def subscribe_account(
    conn: psycopg.Connection, topology: Topology, account: Account, policy: RetryPolicy | None = None
) -> dict[str, Any]:
    """Destination + ORDER_CHANGE subscription of the account's queue, recorded through ``conn``; returns
    what was recorded. NotSubscribable before any call; Amazon's refusals as AmazonError."""
    from mip.airflow.hooks.sp_api import SpApiHook
    from mip.orders.subscribe import subscribe

    queue, country = _checked_queue(topology, account)
    with SpApiHook(account.connection_id, account.id).gateway_session(policy) as gateway:
        return subscribe(conn, gateway, account.id, country, queue)
