"""Connecting an account whose topology entry has ``order_events`` on the Marketplaces page subscribes it once
its credentials are stored (``mip.airflow.subscribe``, the step of ``mip notifications subscribe``); a failed
subscription is reported under the connect, which stays done.

Nothing of the page's forms or of the callback reaches a URL here: the queue URL is the topology's, confined by
``mip.orders.queue`` (tests/security/test_order_events_queue.py); the refused queue below shows the confinement
holds on the page's path too, before any call. Subscribing sends Amazon only the queue's ARN, so no SQS server
is needed: the sandbox records the destination and the subscription, read back through the Notifications API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.marketplaces.conftest import approve_on_amazon, connection_extra, notice_of, start_consent
from tests.waiting import wait_until

QUEUE = "http://127.0.0.1:9/123456789012/mip-orders-page"
ARN = "arn:aws:sqs:eu-west-1:123456789012:mip-orders-page"
REFUSED = "http://10.0.0.8:9/123456789012/mip-orders-page"  # not loopback: no sandbox rule allows it
FAILED_LOG = "subscribing account demo to its order events after the connect failed"


@pytest.fixture
def demo_order_events(airflow_server, db):
    """``set(queue_url)`` gives account demo ``order_events`` in the api-server's topology (read on every
    request); the topology and demo's subscription row are restored afterwards."""
    path = Path(airflow_server.env["MIP_CHANNELS_FILE"])
    original = path.read_text()

    def set_queue(queue_url: str) -> None:
        topology = yaml.safe_load(original)
        demo = next(a for a in topology["accounts"] if a["id"] == "demo")
        demo["order_events"] = {"queue_url": queue_url, "aws_conn_id": "mip_aws"}
        path.write_text(yaml.safe_dump(topology, sort_keys=False))

    yield set_queue
    path.write_text(original)
    db.execute("DELETE FROM mip.order_event_subscriptions WHERE account_id = 'demo'")


def reconnect_demo(server) -> str:
    """Reset demo's credentials through the page; the notice of the outcome."""
    with server.client("admin") as admin:
        consent = start_consent(admin, action="reset", account_id="demo")
        done = admin.get(approve_on_amazon(server.sandbox, consent, "demo"), follow_redirects=True)
    assert done.status_code == 200, done.text[-2000:]
    return notice_of(done.text)


@contextmanager
def notifications_api(mip_url: str) -> Iterator[tuple[Any, Any]]:
    """(gateway, Notifications client) with the credentials the page stored for demo."""
    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.amazon import apis
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import RetryPolicy, SpApiGateway
    from mip.store.db import connect

    credentials = credentials_from_extra("demo", connection_extra("amazon_sp_api_mp_demo"))
    with connect(mip_url, autocommit=True) as conn:
        gateway = SpApiGateway(credentials, RateBudget(conn, credentials.seller_id), RetryPolicy(max_attempts=2))
        yield gateway, apis.notifications(gateway, "IT")


def test_connecting_an_account_with_order_events_subscribes_it(airflow_server, demo_order_events, db, mip_url):
    demo_order_events(QUEUE)
    shown = reconnect_demo(airflow_server)

    assert shown.startswith(" | Credentials reset"), shown
    assert f"Order events on: Amazon sends Seller ID A1MIPDEMOSELLER's ORDER_CHANGE notifications to {ARN}" in shown
    rows = db.execute(
        "SELECT seller_id, queue_arn, destination_id, subscription_id FROM mip.order_event_subscriptions"
        " WHERE account_id = 'demo'"
    ).fetchall()
    assert [row[:2] for row in rows] == [("A1MIPDEMOSELLER", ARN)]
    _, _, destination_id, subscription_id = rows[0]
    assert f"(subscription {subscription_id})" in shown
    with notifications_api(mip_url) as (gateway, client):
        destinations = gateway.call("getDestinations", client.get_destinations).payload
        subscription = gateway.call("getSubscription", lambda: client.get_subscription("ORDER_CHANGE")).payload
    assert {d["destinationId"]: d["resource"]["sqs"]["arn"] for d in destinations}[destination_id] == ARN
    assert (subscription["destinationId"], subscription["subscriptionId"]) == (destination_id, subscription_id)


def test_a_failed_subscription_keeps_the_connect_and_says_what_to_do(airflow_server, demo_order_events, db):
    sandbox = airflow_server.sandbox
    history = "SELECT count(*) FROM mip.account_credentials_history WHERE account_id = 'demo'"
    stored_before = db.execute(history).fetchone()[0]
    destination_calls = sandbox.admin("GET", "calls").get("getDestinations", {}).get("calls", 0)
    log_from = airflow_server.log.stat().st_size
    demo_order_events(REFUSED)
    shown = reconnect_demo(airflow_server)

    assert shown.startswith("order_events_not_subscribed | Credentials reset"), shown
    assert "Order events are not on (the hourly import still brings the orders):" in shown
    assert f"queue URL '{REFUSED}' is refused" in shown
    assert "then run `mip notifications subscribe demo`" in shown
    assert connection_extra("amazon_sp_api_mp_demo")["refresh_token"] == sandbox.account("demo")["refresh_token"]
    assert db.execute(history).fetchone()[0] == stored_before + 1  # the credentials are stored all the same
    assert db.execute("SELECT 1 FROM mip.order_event_subscriptions WHERE account_id = 'demo'").fetchone() is None
    # refused before any call to Amazon's Notifications API
    assert sandbox.admin("GET", "calls").get("getDestinations", {}).get("calls", 0) == destination_calls
    wait_until(
        lambda: FAILED_LOG in airflow_server.log.read_bytes()[log_from:].decode("utf-8", "replace"),
        what="the failed subscription in the api-server's log",
    )
