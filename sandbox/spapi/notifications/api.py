"""Notifications API v1: destinations (grantless, one SQS ARN each) and ORDER_CHANGE subscriptions.

Destinations belong to the application (grantless token); a subscription belongs to the seller of the
access token, one per notification type. The sandbox delivers ORDER_CHANGE only (mip needs no other).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.spapi.call import Call
from sandbox.spapi.errors import ApiError, invalid_input

SUPPORTED_TYPES = ("ORDER_CHANGE",)
_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$")


def _destination(row) -> dict[str, Any]:
    return {"name": row["name"], "destinationId": row["destination_id"], "resource": {"sqs": {"arn": row["arn"]}}}


def _subscription(row) -> dict[str, Any]:
    return {
        "subscriptionId": row["subscription_id"],
        "payloadVersion": row["payload_version"],
        "destinationId": row["destination_id"],
    }


def _type(call: Call) -> str:
    notification_type = call.path["notificationType"]
    if notification_type not in SUPPORTED_TYPES:
        raise invalid_input(f"The sandbox delivers {', '.join(SUPPORTED_TYPES)} only, not {notification_type}.")
    return notification_type


def create_destination(call: Call) -> tuple[int, Any]:
    body = call.body or {}
    arn = ((body.get("resourceSpecification") or {}).get("sqs") or {}).get("arn")
    if not arn or not _ARN.match(arn):
        raise invalid_input("resourceSpecification.sqs.arn must be an SQS queue ARN (arn:aws:sqs:region:account:name).")
    state = call.state
    with state.db.tx() as conn:
        if conn.execute("SELECT 1 FROM destinations WHERE arn = ?", (arn,)).fetchone():
            raise ApiError(409, "Conflict", f"A destination for {arn} already exists.")
        destination_id = f"dest-{state.random_token('0123456789abcdef', 32)}"
        conn.execute(
            "INSERT INTO destinations VALUES (?, ?, ?, ?)", (destination_id, body["name"], arn, state.clock.now())
        )
    row = state.db.one("SELECT * FROM destinations WHERE destination_id = ?", (destination_id,))
    return 200, {"payload": _destination(row)}


def get_destinations(call: Call) -> tuple[int, Any]:
    rows = call.state.db.query("SELECT * FROM destinations ORDER BY created_at, destination_id")
    return 200, {"payload": [_destination(r) for r in rows]}


def _own_destination(call: Call):
    row = call.state.db.one("SELECT * FROM destinations WHERE destination_id = ?", (call.path["destinationId"],))
    if row is None:
        raise ApiError(404, "NotFound", f"Destination {call.path['destinationId']} was not found.")
    return row


def get_destination(call: Call) -> tuple[int, Any]:
    return 200, {"payload": _destination(_own_destination(call))}


def delete_destination(call: Call) -> tuple[int, Any]:
    row = _own_destination(call)
    with call.state.db.tx() as conn:
        conn.execute("DELETE FROM subscriptions WHERE destination_id = ?", (row["destination_id"],))
        conn.execute("DELETE FROM destinations WHERE destination_id = ?", (row["destination_id"],))
    return 200, {}


def create_subscription(call: Call) -> tuple[int, Any]:
    notification_type = _type(call)
    body = call.body or {}
    state = call.state
    with state.db.tx() as conn:
        if not conn.execute("SELECT 1 FROM destinations WHERE destination_id = ?", (body["destinationId"],)).fetchone():
            raise invalid_input(f"Destination {body['destinationId']} does not exist.")
        existing = conn.execute(
            "SELECT * FROM subscriptions WHERE seller_id = ? AND notification_type = ?",
            (call.seller_id, notification_type),
        ).fetchone()
        if existing is not None:
            raise ApiError(
                409,
                "Conflict",
                f"A subscription for {notification_type} already exists: {existing['subscription_id']}.",
            )
        subscription_id = state.random_token("0123456789abcdef", 8) + "-" + state.random_token("0123456789abcdef", 12)
        conn.execute(
            "INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?)",
            (
                subscription_id,
                call.seller_id,
                notification_type,
                body["payloadVersion"],
                body["destinationId"],
                state.clock.now(),
            ),
        )
    row = state.db.one("SELECT * FROM subscriptions WHERE subscription_id = ?", (subscription_id,))
    return 200, {"payload": _subscription(row)}


def get_subscription(call: Call) -> tuple[int, Any]:
    notification_type = _type(call)
    row = call.state.db.one(
        "SELECT * FROM subscriptions WHERE seller_id = ? AND notification_type = ?", (call.seller_id, notification_type)
    )
    if row is None:
        raise ApiError(404, "NotFound", f"The seller has no subscription for {notification_type}.")
    return 200, {"payload": _subscription(row)}


def _subscription_by_id(call: Call):
    row = call.state.db.one(
        "SELECT * FROM subscriptions WHERE subscription_id = ? AND notification_type = ?",
        (call.path["subscriptionId"], _type(call)),
    )
    if row is None or (call.seller_id and row["seller_id"] != call.seller_id):
        raise ApiError(404, "NotFound", f"Subscription {call.path['subscriptionId']} was not found.")
    return row


def get_subscription_by_id(call: Call) -> tuple[int, Any]:
    return 200, {"payload": _subscription(_subscription_by_id(call))}


def delete_subscription_by_id(call: Call) -> tuple[int, Any]:
    row = _subscription_by_id(call)
    with call.state.db.tx() as conn:
        conn.execute("DELETE FROM subscriptions WHERE subscription_id = ?", (row["subscription_id"],))
    return 200, {}


HANDLERS = {
    "createDestination": create_destination,
    "getDestinations": get_destinations,
    "getDestination": get_destination,
    "deleteDestination": delete_destination,
    "createSubscription": create_subscription,
    "getSubscription": get_subscription,
    "getSubscriptionById": get_subscription_by_id,
    "deleteSubscriptionById": delete_subscription_by_id,
}
# Operations Amazon answers with a grantless token (LWA client_credentials, scope notifications).
GRANTLESS = frozenset({"createDestination", "getDestinations", "getDestination", "deleteDestination"})
# Operations that take either token.
EITHER = frozenset({"deleteSubscriptionById", "getSubscriptionById"})
