"""The order events' new inputs: the queue URL from configuration and the messages in the queue.

The queue URL (topology ``accounts[].order_events.queue_url``) decides where the ``aws`` connection's
credentials go: only Amazon SQS, or a sandbox queue on a loopback address where the deployment allows the
sandbox; the DAG does not load and ``mip notifications subscribe`` refuses, before any network call,
otherwise (the Marketplaces page subscribes on connect through the same path, with the topology's URL, never a
form's: tests/marketplaces/test_order_events_on_connect.py shows a refused queue there). A message's fields
are untrusted: an AmazonOrderId that is not an order id never reaches a
request path, another seller's message is not imported.
"""

from __future__ import annotations

import json

import pytest
import yaml

from mip.orders.events import parse
from mip.orders.queue import QueueRefused, check_queue_url

AMAZON = "https://sqs.eu-west-1.amazonaws.com/123456789012/mip-orders"


def test_amazon_sqs_urls_are_accepted():
    queue = check_queue_url(AMAZON, allow_sandbox=False)
    assert (queue.region, queue.aws_account, queue.name, queue.sandbox) == (
        "eu-west-1",
        "123456789012",
        "mip-orders",
        False,
    )
    assert queue.arn == "arn:aws:sqs:eu-west-1:123456789012:mip-orders" and queue.endpoint is None


@pytest.mark.parametrize(
    "url",
    [
        "http://sqs.eu-west-1.amazonaws.com/123456789012/mip-orders",  # not https
        "https://sqs.eu-west-1.amazonaws.com.evil.example/123456789012/mip-orders",
        "https://evil.example/123456789012/mip-orders",
        "https://user:pw@sqs.eu-west-1.amazonaws.com/123456789012/mip-orders",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/mip-orders?redirect=evil",
        "https://sqs.eu-west-1.amazonaws.com/12345/mip-orders",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/../../x",
        "http://127.0.0.1:5000/123456789012/mip-orders",  # a sandbox, where none is allowed
        "",
    ],
)
def test_everything_else_is_refused_without_a_sandbox(url):
    with pytest.raises(QueueRefused, match="refused"):
        check_queue_url(url, allow_sandbox=False)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:5000/123456789012/mip-orders", True),
        ("http://localhost:5000/123456789012/mip-orders", True),
        ("http://sqs:5000/123456789012/mip-orders", True),  # a named sandbox host (compose)
        ("http://10.0.0.8:5000/123456789012/mip-orders", False),
        ("http://evil.example:5000/123456789012/mip-orders", False),
        ("http://user@127.0.0.1:5000/123456789012/mip-orders", False),
        ("http://127.0.0.1:5000/anything", False),
    ],
)
def test_a_sandbox_queue_only_on_loopback_or_named_hosts(url, allowed):
    if allowed:
        assert check_queue_url(url, allow_sandbox=True, sandbox_hosts=["sqs"]).sandbox
    else:
        with pytest.raises(QueueRefused):
            check_queue_url(url, allow_sandbox=True, sandbox_hosts=["sqs"])


@pytest.fixture
def evil_topology(topology_file, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "False")
    topology = yaml.safe_load(topology_file.read_text())
    topology["accounts"][0]["order_events"] = {"queue_url": "https://evil.example/123456789012/q"}
    path = tmp_path / "channels.yaml"
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


def test_the_event_dag_does_not_load_with_a_refused_queue(evil_topology):
    from mip.airflow.pipelines.order_events import build
    from mip.config import load_topology

    topology = load_topology(evil_topology)
    with pytest.raises(QueueRefused):
        build(topology, topology.account("demo"))


def test_subscribe_refuses_before_any_call(evil_topology, capfd):
    from mip.cli import main

    assert main(["notifications", "subscribe", "demo", "--topology", str(evil_topology)]) == 1
    assert "refused" in capfd.readouterr().err


@pytest.mark.parametrize(
    "order_id", ["../../sellers/v1/marketplaceParticipations", "403-1234567-1234567/x", "a" * 5000]
)
def test_a_message_naming_no_order_id_is_malformed(order_id):
    body = {
        "NotificationType": "ORDER_CHANGE",
        "NotificationMetadata": {"NotificationId": "n"},
        "Payload": {
            "OrderChangeNotification": {
                "SellerId": "A1MIPDEMOSELLER",
                "AmazonOrderId": order_id,
                "Summary": {"MarketplaceId": "APJ6JRA9NG5V4"},
            }
        },
    }
    message = parse({"MessageId": "m", "Body": json.dumps(body)})
    assert message.outcome == "malformed" and len(message.detail) <= 500
