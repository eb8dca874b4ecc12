"""Delivering due ORDER_CHANGE notifications to the subscription's SQS queue, with the faults on.

The queue is a real SQS server (moto in server mode locally, ``--sqs-endpoint``): the destination's
ARN ``arn:aws:sqs:<region>:<account>:<name>`` is the queue ``<endpoint>/<account>/<name>``. Faults
(``/_sandbox/faults``): ``notifications_duplicate`` (share of messages sent twice),
``notifications_dropped`` (share never sent), ``notifications_delayed`` (messages held until
``POST /_sandbox/notifications/release``), ``notifications_out_of_order`` (each batch newest first).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from sandbox.spapi.notifications.message import order_change
from sandbox.spapi.state import State

log = logging.getLogger("sandbox.spapi.notifications")
_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def queue_of(arn: str, endpoint: str) -> tuple[str, str]:
    """(region, queue URL) of an SQS ARN on the configured SQS server."""
    _, _, _, region, account, name = arn.split(":", 5)
    return region, f"{endpoint.rstrip('/')}/{account}/{name}"


def _sqs(endpoint: str, region: str) -> Any:
    import boto3

    with _lock:
        key = (endpoint, region)
        if key not in _clients:
            _clients[key] = boto3.client(
                "sqs",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",
            )
        return _clients[key]


def _due(state: State, now: float) -> list:
    return state.db.query(
        "SELECT n.*, s.subscription_id, d.arn FROM notification_outbox n "
        "JOIN subscriptions s ON s.seller_id = n.seller_id AND s.notification_type = 'ORDER_CHANGE' "
        "JOIN destinations d ON d.destination_id = s.destination_id "
        "WHERE n.state IN ('pending', 'released') AND n.due_at <= ? ORDER BY n.changed_at, n.id",
        (now,),
    )


def deliver(state: State) -> int:
    """Send every due notification (under the faults); returns how many messages went to queues."""
    now = state.clock.now()
    due = _due(state, now)
    if not due:
        return 0
    faults = state.faults.current
    if faults.notifications_out_of_order:
        due = list(reversed(due))
    sent = 0
    conn = state.db.conn()
    for entry in due:
        if entry["state"] == "pending" and faults.notifications_delayed:
            _mark(state, entry["id"], "held", 0, None)
            continue
        if state.faults.roll(faults.notifications_dropped):
            _mark(state, entry["id"], "dropped", 0, None)
            continue
        notification_id = str(uuid.uuid4())
        body = order_change(
            conn, {**dict(entry), "notification_id": notification_id}, _app_id(state), entry["subscription_id"], now
        )
        copies = 2 if state.faults.roll(faults.notifications_duplicate) else 1
        endpoint = state.settings.sqs_endpoint
        if not endpoint:
            _mark(state, entry["id"], "undeliverable", 0, notification_id)
            continue
        region, url = queue_of(entry["arn"], endpoint)
        try:
            for _ in range(copies):
                _sqs(endpoint, region).send_message(QueueUrl=url, MessageBody=json.dumps(body))
        except Exception as exc:  # the queue is gone or the server down: Amazon retries, so do we
            log.warning("ORDER_CHANGE for %s not delivered to %s: %s", entry["amazon_order_id"], url, exc)
            continue
        _mark(state, entry["id"], "sent", copies, notification_id, now)
        sent += copies
    return sent


def _app_id(state: State) -> str:
    return state.app.application_id


def _mark(state: State, entry_id: int, new_state: str, copies: int, notification_id: str | None, at=None) -> None:
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE notification_outbox SET state = ?, copies = ?, notification_id = ?, sent_at = ? WHERE id = ?",
            (new_state, copies, notification_id, at, entry_id),
        )


def release(state: State) -> int:
    """Let the held notifications go (they are sent on the next delivery, even while delayed is on)."""
    with state.db.tx() as conn:
        return conn.execute("UPDATE notification_outbox SET state = 'released' WHERE state = 'held'").rowcount


def truth(state: State, seller_id: str | None = None) -> list[dict[str, Any]]:
    where, args = ("WHERE seller_id = ?", (seller_id,)) if seller_id else ("", ())
    rows = state.db.query(f"SELECT * FROM notification_outbox {where} ORDER BY id", args)
    return [dict(r) for r in rows]
