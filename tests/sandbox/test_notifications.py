"""The sandbox's Notifications API and its ORDER_CHANGE delivery to a real SQS server (moto).

Through python-amazon-sp-api (grantless destinations, seller subscriptions), every response checked
against notifications.json (``--validate-responses``), every message against OrderChangeNotification.json,
and each delivery fault: duplicate, dropped, delayed (held until released), out of order.
"""

from __future__ import annotations

import json
import time

import pytest

from sandbox.spapi.contract import order_change_validator
from tests.sandbox.conftest import DEMO
from tests.waiting import wait_until

QUEUE = "mip-orders-test"


@pytest.fixture(scope="module")
def sqs(tmp_path_factory):
    from sandbox.sqs import run_sqs

    with run_sqs(tmp_path_factory.mktemp("sqs"), queues=[QUEUE]) as server:
        yield server


@pytest.fixture(scope="module")
def notifying_sandbox(tmp_path_factory, sqs):
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("spapi-notify"),
        time_scale=600.0,
        extra_args=["--validate-responses", "--sqs-endpoint", sqs.endpoint],
    ) as running:
        yield running
        violations = running.admin("GET", "contract-violations")["violations"]
    assert not violations, f"responses that break Amazon's models: {violations[:5]}"


@pytest.fixture(scope="module")
def subscription(notifying_sandbox, sqs):
    from sp_api.api import Notifications
    from sp_api.base import Marketplaces

    from sandbox.sqs import queue_arn
    from sandbox.testing import forget_access_tokens

    forget_access_tokens()  # another module's sandbox may have left a grantless token of the same client id
    client = notifying_sandbox.client(Notifications, "demo", Marketplaces.IT)
    destination = client.create_destination(name="mip-test", arn=queue_arn(QUEUE)).payload
    created = client.create_subscription("ORDER_CHANGE", destination_id=destination["destinationId"]).payload
    return client, destination, created


def _drain(sqs, ids: list[str], wanted: int) -> list[dict]:
    """Receive until ``wanted`` messages naming ``ids`` came (deleting every message: earlier tests' orders
    go on changing status); the queue is the synchronisation point."""
    client, url, found = sqs.client(), sqs.queue_url(QUEUE), []

    def more() -> bool:
        response = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            body = json.loads(message["Body"])
            if body["Payload"]["OrderChangeNotification"]["AmazonOrderId"] in ids:
                found.append(body)
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(found) >= wanted

    wait_until(more, timeout=60, every=0, what=f"{wanted} ORDER_CHANGE message(s)")
    return found


def _generate(sandbox, count: int, seconds: float = 60) -> list[str]:
    now = time.time()
    body = {"seller_id": DEMO, "country": "IT", "count": count, "start": now - seconds, "end": now, "skus": ["N-1"]}
    return sandbox.admin("POST", "orders/generate", json=body)["amazon_order_ids"]


def _order_ids(messages: list[dict]) -> list[str]:
    return [m["Payload"]["OrderChangeNotification"]["AmazonOrderId"] for m in messages]


def test_destination_and_subscription_in_the_models_shapes(subscription, notifying_sandbox):
    client, destination, created = subscription
    assert destination["resource"]["sqs"]["arn"].endswith(f":{QUEUE}")
    assert [d["destinationId"] for d in client.get_destinations().payload] == [destination["destinationId"]]
    assert client.get_subscription("ORDER_CHANGE").payload == created
    assert created["destinationId"] == destination["destinationId"]


def test_every_created_order_is_notified_with_a_valid_message(subscription, notifying_sandbox, sqs):
    ids = _generate(notifying_sandbox, 3)
    messages = _drain(sqs, ids, 3)
    assert sorted(_order_ids(messages)) == sorted(ids)
    validator = order_change_validator()
    for message in messages:
        assert not list(validator.iter_errors(message)), list(validator.iter_errors(message))[:3]
        assert message["Payload"]["OrderChangeNotification"]["SellerId"] == DEMO
        assert message["NotificationMetadata"]["SubscriptionId"] == subscription[2]["subscriptionId"]


def test_a_status_change_is_notified(subscription, notifying_sandbox, sqs):
    # orders leave Pending 2-30 Amazon minutes after their purchase: at scale 600, within 3 real seconds (an
    # order whose purchase second is already that old is created Unshipped: five make a change near certain)
    ids = _generate(notifying_sandbox, 5, seconds=0.05)
    client, url, statuses = sqs.client(), sqs.queue_url(QUEUE), {}

    def changed() -> bool:
        for message in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            change = body["Payload"]["OrderChangeNotification"]
            if change["AmazonOrderId"] in ids:
                assert not list(order_change_validator().iter_errors(body))
                statuses.setdefault(change["AmazonOrderId"], []).append(change["Summary"]["OrderStatus"])
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return any(seen[:2] == ["Pending", "Unshipped"] for seen in statuses.values())

    wait_until(changed, timeout=60, every=0, what="a Pending -> Unshipped notification pair")


def test_duplicate_and_dropped_faults(subscription, notifying_sandbox, sqs):
    notifying_sandbox.set_faults(notifications_duplicate=1.0)
    try:
        ids = _generate(notifying_sandbox, 2)
        messages = _drain(sqs, ids, 4)
    finally:
        notifying_sandbox.reset_faults()
    assert sorted(_order_ids(messages)) == sorted(ids * 2)
    assert len({m["NotificationMetadata"]["NotificationId"] for m in messages}) == 2  # the same message twice
    notifying_sandbox.set_faults(notifications_dropped=1.0)
    try:
        dropped = _generate(notifying_sandbox, 2)
        wait_until(
            lambda: (
                {
                    n["amazon_order_id"]
                    for n in notifying_sandbox.admin("GET", "notifications")
                    if n["state"] == "dropped"
                }
                >= set(dropped)
            ),
            what="the dropped notifications",
        )
    finally:
        notifying_sandbox.reset_faults()


def test_delayed_messages_wait_for_the_release_and_come_out_of_order(subscription, notifying_sandbox, sqs):
    notifying_sandbox.set_faults(notifications_delayed=True, notifications_out_of_order=True)
    try:
        ids = _generate(notifying_sandbox, 3)
        wait_until(
            lambda: (
                {n["amazon_order_id"] for n in notifying_sandbox.admin("GET", "notifications") if n["state"] == "held"}
                >= set(ids)
            ),
            what="three held notifications",
        )
        assert notifying_sandbox.admin("POST", "notifications/release")["released"] >= 3
        messages = _drain(sqs, ids, 3)
    finally:
        notifying_sandbox.reset_faults()
    times = [m["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["TimeOfOrderChange"] for m in messages]
    assert sorted(_order_ids(messages)) == sorted(ids)
    assert times == sorted(times, reverse=True)  # newest change first


def test_grantless_operations_refuse_a_seller_token(notifying_sandbox):
    from tests.sandbox.conftest import RawApi

    raw = RawApi(notifying_sandbox)
    status, body, _ = raw.call("GET", "/notifications/v1/destinations")
    assert status == 403, body


def test_subscription_delete(subscription, notifying_sandbox):
    """Last: deleting the subscription ends the deliveries."""
    client, _, created = subscription
    client.delete_notification_subscription("ORDER_CHANGE", created["subscriptionId"])
    _generate(notifying_sandbox, 1)
    from sp_api.base import SellingApiNotFoundException

    with pytest.raises(SellingApiNotFoundException):
        client.get_subscription("ORDER_CHANGE")
