"""``mip notifications subscribe ACCOUNT``: Amazon sends the account's ORDER_CHANGE notifications to its queue.

Creates (or reuses) the application's destination for the queue's ARN (grantless ``createDestination``,
``getDestinations``) and the seller's ``ORDER_CHANGE`` subscription to it (``createSubscription``; a
subscription to another destination is deleted first), all through the gateway and its rate budget,
and records them in ``mip.order_event_subscriptions``: from then on the hourly import counts what
events had not brought (mip.orders.events.reconcile). Running it again changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from mip.amazon.gateway import SpApiGateway
from mip.orders.queue import Queue

log = logging.getLogger(__name__)
ORDER_CHANGE = "ORDER_CHANGE"


def _destination(gateway: SpApiGateway, client: Any, account_id: str, queue: Queue) -> dict:
    existing = gateway.call("getDestinations", client.get_destinations).payload or []
    for destination in existing:
        if (destination.get("resource") or {}).get("sqs", {}).get("arn") == queue.arn:
            return destination
    return gateway.call(
        "createDestination", lambda: client.create_destination(name=f"mip-{account_id}", arn=queue.arn)
    ).payload


def _subscription(gateway: SpApiGateway, client: Any, destination_id: str) -> dict:
    from mip.amazon.errors import AmazonRequestRejected

    try:
        current = gateway.call("getSubscription", lambda: client.get_subscription(ORDER_CHANGE)).payload
    except AmazonRequestRejected as exc:  # 404: the seller has no subscription yet
        if exc.status != 404:
            raise
        current = None
    if current and current.get("destinationId") == destination_id:
        return current
    if current:
        gateway.call(
            "deleteSubscriptionById",
            lambda: client.delete_notification_subscription(ORDER_CHANGE, current["subscriptionId"]),
        )
    return gateway.call(
        "createSubscription", lambda: client.create_subscription(ORDER_CHANGE, destination_id=destination_id)
    ).payload


def subscribe(conn: psycopg.Connection, gateway: SpApiGateway, account_id: str, country: str, queue: Queue) -> dict:
    """Destination + ORDER_CHANGE subscription for the gateway's seller; returns what was recorded."""
    from mip.amazon import apis

    client = apis.notifications(gateway, country)
    destination = _destination(gateway, client, account_id, queue)
    subscription = _subscription(gateway, client, destination["destinationId"])
    seller_id = gateway.credentials.seller_id
    conn.execute(
        "INSERT INTO mip.order_event_subscriptions (account_id, seller_id, queue_arn, destination_id, subscription_id)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, seller_id) DO UPDATE SET queue_arn = EXCLUDED.queue_arn,"
        " destination_id = EXCLUDED.destination_id, subscription_id = EXCLUDED.subscription_id"
        " WHERE mip.order_event_subscriptions.subscription_id <> EXCLUDED.subscription_id",
        (account_id, seller_id, queue.arn, destination["destinationId"], subscription["subscriptionId"]),
    )
    log.info("account %s (%s): ORDER_CHANGE -> %s", account_id, seller_id, queue.arn)
    return {
        "account": account_id,
        "seller_id": seller_id,
        "queue_arn": queue.arn,
        "destination_id": destination["destinationId"],
        "subscription_id": subscription["subscriptionId"],
    }
