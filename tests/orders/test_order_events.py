"""ORDER_CHANGE notifications through a real SQS server (moto) into mip.orders, on the real path.

The sandbox sends a notification for every order it creates or changes to the queue; the test reads the
queue as the Airflow trigger does (receive + delete) and runs the event step (mip.orders.events) with a
real gateway (python-amazon-sp-api, rate budget) and PostgreSQL, then compares mip.orders with the
sandbox's truth. One case per delivery fault: duplicate, out of order, delayed (held until the test
releases it), dropped (found by the hourly import, counted as missed_by_events).

Time scale 60: orders bought 35-40 Amazon minutes ago have left Pending and next change an Amazon hour
or more later (a real minute), so the truth holds still while a case compares.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from mip.config import load_topology
from mip.orders.events import import_events
from mip.orders.importer import import_window
from mip.orders.window import Window
from mip.runs import RunKey
from tests.orders.conftest import assert_matches_truth, generate, utc
from tests.waiting import wait_until

QUEUE = "mip-orders-events"
SCALE = 60.0


@pytest.fixture(scope="module")
def sqs(tmp_path_factory):
    from sandbox.sqs import run_sqs

    with run_sqs(tmp_path_factory.mktemp("sqs"), queues=[QUEUE]) as server:
        yield server


@pytest.fixture(scope="module")
def events_sandbox(tmp_path_factory, sqs):
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("events-spapi"), time_scale=SCALE, extra_args=["--sqs-endpoint", sqs.endpoint]
    ) as running:
        yield running


@pytest.fixture(scope="module")
def topology():
    return load_topology()


@pytest.fixture
def subscribed(events_sandbox, sqs, clean_orders, gateway_for):
    """The demo account subscribed through ``mip notifications subscribe``'s step (cases read only their orders)."""
    from mip.orders.queue import check_queue_url
    from mip.orders.subscribe import subscribe

    db = clean_orders
    db.execute("DELETE FROM mip.order_events")
    db.execute("DELETE FROM mip.order_event_subscriptions")
    events_sandbox.reset_faults()
    gateway = gateway_for(events_sandbox)
    queue = check_queue_url(sqs.queue_url(QUEUE), allow_sandbox=True)
    first = subscribe(db, gateway, "demo", "IT", queue)
    assert subscribe(db, gateway, "demo", "IT", queue) == first  # idempotent
    db.commit()
    yield db, gateway
    events_sandbox.reset_faults()


def receive(sqs, ids: set[str], wanted: int) -> list[dict]:
    """Messages naming ``ids`` until ``wanted`` came, as the trigger receives them (then deleted)."""
    import json

    client, url, found = sqs.client(), sqs.queue_url(QUEUE), []

    def more() -> bool:
        for message in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if json.loads(message["Body"])["Payload"]["OrderChangeNotification"]["AmazonOrderId"] in ids:
                found.append(message)
        return len(found) >= wanted

    wait_until(more, timeout=90, every=0, what=f"{wanted} ORDER_CHANGE message(s)")
    return found


def settled_orders(sandbox, count: int, country: str = "IT") -> set[str]:
    """Orders bought 35-40 Amazon minutes ago: past Pending, their next change an Amazon hour away."""
    now = time.time()
    return set(generate(sandbox, count, now - 40 * 60 / SCALE, now - 35 * 60 / SCALE, country=country))


def run_events(db, gateway, topology, run_id: str, messages: list[dict]) -> dict[str, int]:
    channels = [c for c in topology.channels if c.account == "demo"]
    key = RunKey(channel=topology.channel("it"), run_id=run_id, dag_id="test", task_id="import_events")
    counts = import_events(key, db, gateway, messages, channels)
    db.commit()
    return counts


def test_notified_orders_land_under_their_channels(events_sandbox, sqs, subscribed, topology):
    db, gateway = subscribed
    it, fr = settled_orders(events_sandbox, 4), settled_orders(events_sandbox, 3, country="FR")
    messages = receive(sqs, it | fr, 7)
    calls = gateway.calls
    assert run_events(db, gateway, topology, "events-1", messages) == {"imported": 7}
    assert gateway.calls - calls <= 7 + 7  # one read of the orders per order at most, one getOrderItems each
    assert_matches_truth(db, events_sandbox, "it", "IT", it)
    assert_matches_truth(db, events_sandbox, "fr", "FR", fr)  # an International Listing channel


def test_duplicates_are_recorded_and_cost_no_call(events_sandbox, sqs, subscribed, topology):
    db, gateway = subscribed
    events_sandbox.set_faults(notifications_duplicate=1.0)
    ids = settled_orders(events_sandbox, 3)
    messages = receive(sqs, ids, 6)
    assert run_events(db, gateway, topology, "events-dup-1", messages) == {"imported": 3, "duplicate": 3}
    calls = gateway.calls
    assert run_events(db, gateway, topology, "events-dup-2", messages) == {"duplicate": 6}  # redelivered
    assert gateway.calls == calls
    assert_matches_truth(db, events_sandbox, "it", "IT", ids)
    rows = db.execute("SELECT count(*) FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)).fetchone()
    assert rows[0] == 3


def test_delayed_notifications_wait_for_their_release(events_sandbox, sqs, subscribed, topology):
    db, gateway = subscribed
    events_sandbox.set_faults(notifications_delayed=True)
    ids = settled_orders(events_sandbox, 3)
    wait_until(
        lambda: (
            {n["amazon_order_id"] for n in events_sandbox.admin("GET", "notifications") if n["state"] == "held"} >= ids
        ),
        what="the held notifications",
    )
    assert not db.execute("SELECT 1 FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)).fetchall()
    assert events_sandbox.admin("POST", "notifications/release")["released"] >= 3
    messages = receive(sqs, ids, 3)
    assert run_events(db, gateway, topology, "events-delay-1", messages) == {"imported": 3}
    assert_matches_truth(db, events_sandbox, "it", "IT", ids)


def test_out_of_order_notifications_never_regress_an_order(events_sandbox, sqs, subscribed, topology):
    """Messages newest first, each in its own run: the older ones find nothing newer to write."""
    db, gateway = subscribed
    events_sandbox.set_faults(notifications_delayed=True, notifications_out_of_order=True)
    ids = settled_orders(events_sandbox, 2) | settled_orders(events_sandbox, 2)
    wait_until(
        lambda: (
            {n["amazon_order_id"] for n in events_sandbox.admin("GET", "notifications") if n["state"] == "held"} >= ids
        ),
        what="the held notifications",
    )
    events_sandbox.admin("POST", "notifications/release")
    messages = receive(sqs, ids, 4)
    outcomes = [run_events(db, gateway, topology, f"events-ooo-{n}", [m]) for n, m in enumerate(messages)]
    assert sum(o.get("imported", 0) for o in outcomes) == 4
    before = db.execute(
        "SELECT amazon_order_id, last_update_date, xmin::text FROM mip.orders WHERE amazon_order_id = ANY(%s) "
        "ORDER BY 1",
        (sorted(ids),),
    ).fetchall()
    assert run_events(db, gateway, topology, "events-ooo-again", list(reversed(messages))) == {"duplicate": 4}
    assert_matches_truth(db, events_sandbox, "it", "IT", ids)
    after = db.execute(
        "SELECT amazon_order_id, last_update_date, xmin::text FROM mip.orders WHERE amazon_order_id = ANY(%s) "
        "ORDER BY 1",
        (sorted(ids),),
    ).fetchall()
    assert after == before  # nothing rewritten


def test_dropped_notifications_are_found_by_the_hourly_import(events_sandbox, sqs, subscribed, topology):
    db, gateway = subscribed
    # the account subscribed before these orders were bought (the reconciliation counts from then on)
    db.execute("UPDATE mip.order_event_subscriptions SET created_at = now() - interval '1 hour'")
    db.commit()
    start = time.time() - 40 * 60 / SCALE
    events_sandbox.set_faults(notifications_dropped=1.0)
    dropped = settled_orders(events_sandbox, 3)
    wait_until(
        lambda: (
            {n["amazon_order_id"] for n in events_sandbox.admin("GET", "notifications") if n["state"] == "dropped"}
            >= dropped
        ),
        what="the dropped notifications",
    )
    events_sandbox.reset_faults()
    delivered = settled_orders(events_sandbox, 2)
    assert run_events(db, gateway, topology, "events-drop", receive(sqs, delivered, 2)) == {"imported": 2}
    end = time.time() - 3 * 60 / SCALE  # Amazon's two-minute rule
    window = Window(utc(start - 1), utc(end), utc(end))
    import_window(db, gateway, topology.channel("it"), "hourly-reconcile", window, path="api")
    assert_matches_truth(db, events_sandbox, "it", "IT", dropped | delivered)
    seen, missed = db.execute(
        "SELECT orders_seen, missed_by_events FROM mip.order_intervals WHERE channel_id = 'it' "
        "AND run_id = 'hourly-reconcile'"
    ).fetchone()
    # the window also holds earlier cases' orders (their event records were cleared): all but the two
    # delivered ones were not brought by events
    assert seen >= 5 and missed == seen - 2
    from mip.airflow.page.overview import channel_views

    shown = {view.channel.id: view.activity.missed_by_events for view in channel_views(topology, db)}
    assert shown["it"] == missed and shown["fr"] is None  # the Marketplaces page, per channel


def test_messages_of_another_seller_or_unknown_shape_are_recorded_not_imported(subscribed, topology):
    import json

    db, gateway = subscribed
    other = {
        "MessageId": "m-1",
        "Body": json.dumps(
            {
                "NotificationType": "ORDER_CHANGE",
                "NotificationMetadata": {"NotificationId": "n-other"},
                "Payload": {
                    "OrderChangeNotification": {
                        "SellerId": "A9OTHERSELLER",
                        "AmazonOrderId": "403-0000000-0000000",
                        "Summary": {"MarketplaceId": "APJ6JRA9NG5V4"},
                    }
                },
            }
        ),
    }
    broken = {"MessageId": "m-2", "Body": "{not json"}
    calls = gateway.calls
    assert run_events(db, gateway, topology, "events-odd", [other, broken]) == {"other_seller": 1, "malformed": 1}
    assert gateway.calls == calls
    assert (
        datetime.now(UTC) - timedelta(minutes=5)
        < db.execute("SELECT max(received_at) FROM mip.order_events").fetchone()[0]
    )
