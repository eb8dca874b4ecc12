"""Importing exactly the orders Amazon's ORDER_CHANGE notifications name (``mip_order_events__<account>``).

A run gets the SQS messages its trigger received. Each message is parsed and sorted out first: a
NotificationId already handled is a ``duplicate`` (no call), another seller's or an unknown
marketplace's message is recorded and skipped. The orders named by the rest are read per channel
(the marketplace's main or International Listing channel): ``getOrders`` by id list (up to 50 per
call) when its rate budget has a token now and more than one order is wanted, ``getOrder`` per order
otherwise, then ``getOrderItems``; all through the gateway and the account's rate budget. They are
staged, gated and loaded exactly like the hourly import (mip.orders.stage, gate, load), so the newer
LastUpdateDate wins whatever order messages arrive in. Every message's outcome is recorded in
``mip.order_events``; the hourly import then counts what events had not brought (``reconcile``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg

from mip.amazon.errors import AmazonRequestRejected
from mip.amazon.gateway import SpApiGateway
from mip.config import Channel
from mip.orders import extract, gate, load, normalise, stage
from mip.orders.window import AMAZON_DELAY
from mip.runs import RunKey

log = logging.getLogger(__name__)
IDS_PER_GET_ORDERS = 50
# Amazon's order ids; anything else in a message never reaches a request path (it is untrusted input)
ORDER_ID = re.compile(r"^[0-9]{3}-[0-9]{7}-[0-9]{7}$")
HANDLED = ("imported", "unchanged", "rejected")


@dataclass
class Message:
    message_id: str | None
    notification_id: str | None = None
    seller_id: str | None = None
    amazon_order_id: str | None = None
    marketplace_id: str | None = None
    changed_at: datetime | None = None
    channel: Channel | None = None
    outcome: str | None = None
    detail: str | None = None


def parse(raw: dict[str, Any]) -> Message:
    """One SQS message (``Body`` holds the notification) -> Message; ``malformed`` when it is not ORDER_CHANGE."""
    message = Message(raw.get("MessageId"))
    try:
        body = json.loads(raw["Body"]) if isinstance(raw.get("Body"), str) else raw["Body"]
        change = body["Payload"]["OrderChangeNotification"]
        message.notification_id = str(body["NotificationMetadata"]["NotificationId"])
        message.seller_id = str(change["SellerId"])
        message.amazon_order_id = str(change["AmazonOrderId"])
        message.marketplace_id = str(change["Summary"]["MarketplaceId"])
        message.changed_at = normalise.parse_time((change.get("OrderChangeTrigger") or {}).get("TimeOfOrderChange"))
        if body.get("NotificationType") != "ORDER_CHANGE":
            raise ValueError(f"notification type {body.get('NotificationType')!r}")
        if not ORDER_ID.match(message.amazon_order_id):
            raise ValueError(f"AmazonOrderId {message.amazon_order_id[:40]!r} is not an Amazon order id")
    except (KeyError, TypeError, ValueError) as exc:
        message.outcome, message.detail = "malformed", f"{type(exc).__name__}: {exc}"[:500]
    return message


def _sort_out(conn: psycopg.Connection, account_id: str, seller_id: str, messages: list[Message], channels) -> None:
    """Outcomes decided without Amazon: other seller, unknown marketplace, duplicate NotificationId."""
    by_marketplace = {c.marketplace.marketplace_id: c for c in channels}
    ids = [m.notification_id for m in messages if m.notification_id]
    handled = {
        row[0]
        for row in conn.execute(
            "SELECT notification_id FROM mip.order_events WHERE account_id = %s AND notification_id = ANY(%s) "
            "AND outcome = ANY(%s)",
            (account_id, ids, list(HANDLED)),
        )
    }
    seen: set[str] = set()
    for message in messages:
        if message.outcome:
            continue
        if message.seller_id != seller_id:
            message.outcome, message.detail = "other_seller", f"the account reads as {seller_id}"
        elif message.marketplace_id not in by_marketplace:
            message.outcome, message.detail = "unknown_marketplace", "no channel of the account sells there"
        elif message.notification_id in handled or message.notification_id in seen:
            message.outcome = "duplicate"
        else:
            message.channel = by_marketplace[message.marketplace_id]
        if message.notification_id:
            seen.add(message.notification_id)


def _read_orders(gateway: SpApiGateway, run: extract.RunKey, order_ids: list[str], settled: bool) -> list[dict]:
    """The orders by id: getOrders by id list when it costs fewer calls right now and every change is older
    than Amazon's two minutes (getOrders may not show younger ones yet), else getOrder each."""
    client = extract._orders_client(gateway, run.country)
    if settled and len(order_ids) > 1 and gateway.ready("getOrders"):
        found: list[dict] = []
        for start in range(0, len(order_ids), IDS_PER_GET_ORDERS):
            chunk = order_ids[start : start + IDS_PER_GET_ORDERS]
            response = gateway.call(
                "getOrders",
                partial(client.get_orders, MarketplaceIds=[run.marketplace_id], AmazonOrderIds=chunk),
                country=run.country,
            )
            found.extend((response.payload or {}).get("Orders", []))
        return found
    orders = []
    for order_id in order_ids:
        try:
            response = gateway.call("getOrder", partial(client.get_order, order_id), country=run.country)
        except AmazonRequestRejected as exc:  # a 404 (an order Amazon does not show) is the message's outcome
            if exc.status == 404:
                continue
            raise
        orders.append(response.payload)
    return orders


def _import_channel(
    conn: psycopg.Connection, gateway: SpApiGateway, key: RunKey, channel: Channel, order_ids: list[str], settled: bool
) -> dict[str, str]:
    """Stage, gate and load the channel's named orders; returns order id -> outcome."""
    run_id = f"{key.run_id}:{channel.id}"
    run = extract.RunKey(channel, run_id, key.dag_id, key.task_id, seller_id=gateway.credentials.seller_id)
    stage.clear_run(conn, channel.id, run_id, kinds=("orders", "items"))
    raw_orders = _read_orders(gateway, run, order_ids, settled)
    stage.save_page(conn, run, "orders", 1, {"AmazonOrderIds": order_ids}, payload={"Orders": raw_orders})
    orders = [normalise.api_order(o, channel.id, run.marketplace_id) for o in raw_orders]
    stage.stage_orders(conn, run, "api", orders)
    stage.mark_unchanged(conn, channel.id, run_id)
    extract.fetch_items(conn, gateway, run)
    gate.run_order_gate(conn, channel.id, channel.marketplace.currency, run_id, key.dag_id, key.task_id)
    load.load_run(conn, channel.id, run_id)
    outcomes = {order_id: "not_found" for order_id in order_ids}
    for order_id, changed, rejected in conn.execute(
        "SELECT amazon_order_id, changed, rejected FROM mip.stage_orders WHERE channel_id = %s AND run_id = %s",
        (channel.id, run_id),
    ):
        outcomes[order_id] = "rejected" if changed and rejected else "imported" if changed else "unchanged"
    return outcomes


def _record(conn: psycopg.Connection, key: RunKey, messages: Iterable[Message]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mip.order_events (account_id, seller_id, notification_id, message_id, amazon_order_id, "
            "marketplace_id, channel_id, changed_at, run_id, outcome, last_update_date, detail) "
            "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, (SELECT last_update_date FROM mip.orders "
            "WHERE seller_id = %s AND amazon_order_id = %s), %s",
            [
                (
                    key.account_id,
                    m.seller_id,
                    m.notification_id,
                    m.message_id,
                    m.amazon_order_id,
                    m.marketplace_id,
                    m.channel.id if m.channel else None,
                    m.changed_at,
                    key.run_id,
                    m.outcome,
                    m.seller_id,
                    m.amazon_order_id if m.outcome in HANDLED else None,
                    m.detail,
                )
                for m in messages
            ],
        )


def import_events(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, messages: list[dict], channels: list[Channel]
) -> dict[str, int]:
    """The domain step of ``mip_order_events__<account>``: the orders named by ``messages`` (raw SQS
    messages) into mip.orders, each message's outcome into mip.order_events. Returns outcome counts."""
    parsed = [parse(raw) for raw in messages]
    _sort_out(conn, key.account_id, gateway.credentials.seller_id, parsed, channels)
    wanted: dict[str, list[Message]] = {}
    for message in parsed:
        if message.channel is not None:
            wanted.setdefault(message.channel.id, []).append(message)
    for _channel_id, found in sorted(wanted.items()):
        channel = found[0].channel
        assert channel is not None  # only messages sorted to a channel are in ``wanted``
        order_ids = sorted({m.amazon_order_id for m in found if m.amazon_order_id})
        newest = max((m.changed_at for m in found if m.changed_at), default=None)
        settled = newest is not None and newest < datetime.now(UTC) - AMAZON_DELAY
        outcomes = _import_channel(conn, gateway, key, channel, order_ids, settled)
        for message in found:
            message.outcome = outcomes[message.amazon_order_id or ""]
        conn.commit()
    _record(conn, key, parsed)
    counts: dict[str, int] = {}
    for message in parsed:
        outcome = message.outcome or "unknown"
        counts[outcome] = counts.get(outcome, 0) + 1
    log.info("order events of %s: %s", key.account_id, counts)
    return counts


def reconcile(conn: psycopg.Connection, channel_id: str, run_id: str) -> int | None:
    """The hourly import's ``missed_by_events``: orders of its window events had not brought (this
    LastUpdateDate or a newer one), counted from the account's subscription on; None without one."""
    row = conn.execute(
        "SELECT i.account_id, i.seller_id, e.created_at FROM mip.order_intervals i "
        "LEFT JOIN mip.order_event_subscriptions e ON (e.account_id, e.seller_id) = (i.account_id, i.seller_id) "
        "WHERE i.channel_id = %s AND i.run_id = %s",
        (channel_id, run_id),
    ).fetchone()
    if row is None or row[2] is None:
        return None
    found = conn.execute(
        "SELECT count(*) FROM mip.stage_orders s WHERE s.channel_id = %s AND s.run_id = %s "
        "AND s.last_update_date >= %s AND NOT EXISTS (SELECT 1 FROM mip.order_events e "
        "WHERE e.seller_id = s.seller_id AND e.amazon_order_id = s.amazon_order_id AND e.outcome = ANY(%s) "
        "AND e.last_update_date >= s.last_update_date)",
        (channel_id, run_id, row[2], list(HANDLED)),
    ).fetchone()
    missed = int(found[0]) if found else 0
    conn.execute(
        "UPDATE mip.order_intervals SET missed_by_events = %s WHERE channel_id = %s AND run_id = %s",
        (missed, channel_id, run_id),
    )
    return missed
