"""JSON_LISTINGS_FEED processing: every operation type, the v2 processing report, FATAL documents, faults."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime

import httpx
import pytest

from sandbox.spapi.contract import processing_report_validator
from tests.sandbox.conftest import DEMO, IT, OTHER, RawApi, attributes, ean13, wait_for


def submit(raw: RawApi, content: bytes | str | dict) -> str:
    if isinstance(content, dict):
        content = json.dumps(content).encode()
    elif isinstance(content, str):
        content = content.encode()
    _, doc, _ = raw.call("POST", "/feeds/2021-06-30/documents", json={"contentType": "application/json; charset=UTF-8"})
    assert (
        httpx.put(doc["url"], content=content, headers={"Content-Type": "application/json; charset=UTF-8"}).status_code
        == 200
    )
    status, feed, _ = raw.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [IT], "inputFeedDocumentId": doc["feedDocumentId"]},
    )
    assert status == 202, feed
    return feed["feedId"]


def finished(raw: RawApi, feed_id: str, timeout: float = 30) -> tuple[dict, dict]:
    """The finished feed and its processing report (checked against the v2 schema)."""
    feed = wait_for(
        lambda: (
            (f := raw.call("GET", f"/feeds/2021-06-30/feeds/{feed_id}")[1])["processingStatus"] in ("DONE", "FATAL")
            and f
        ),
        timeout=timeout,
        what=f"feed {feed_id}",
    )
    url = raw.call("GET", f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}")[1]["url"]
    report = httpx.get(url).json()
    problems = [e.message for e in processing_report_validator().iter_errors(report)]
    assert not problems, problems
    return feed, report


def document(*messages: dict, **header) -> dict:
    return {
        "header": {"sellerId": DEMO, "version": "2.0", "issueLocale": "it_IT", **header},
        "messages": list(messages),
    }


def listing(sandbox, sku: str) -> dict | None:
    rows = sandbox.admin("GET", "listings", params={"seller_id": DEMO, "country": "IT", "sku": sku})
    return rows[0] if rows else None


def test_every_operation_type_is_applied_like_the_api(raw, private_sandbox):
    raw.call(
        "PUT",
        f"/listings/2021-08-01/items/{DEMO}/FE-DEL",
        {"marketplaceIds": IT},
        {"productType": "HOME", "attributes": attributes(ean=ean13(100))},
    )
    raw.call(
        "PUT",
        f"/listings/2021-08-01/items/{DEMO}/FE-PATCH",
        {"marketplaceIds": IT},
        {"productType": "HOME", "attributes": attributes(ean=ean13(101))},
    )
    feed_id = submit(
        raw,
        document(
            {
                "messageId": 1,
                "sku": "FE-NEW",
                "operationType": "UPDATE",
                "productType": "HOME",
                "attributes": attributes(ean=ean13(102)),
            },
            {
                "messageId": 2,
                "sku": "FE-PATCH",
                "operationType": "PARTIAL_UPDATE",
                "productType": "HOME",
                "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 42}]},
            },
            {
                "messageId": 3,
                "sku": "FE-PATCH",
                "operationType": "PATCH",
                "productType": "HOME",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/purchasable_offer",
                        "value": [
                            {
                                "marketplace_id": IT,
                                "currency": "EUR",
                                "our_price": [{"schedule": [{"value_with_tax": 11.5}]}],
                            }
                        ],
                    }
                ],
            },
            {"messageId": 4, "sku": "FE-DEL", "operationType": "DELETE"},
            {
                "messageId": 5,
                "sku": "FE-BAD",
                "operationType": "UPDATE",
                "productType": "HOME",
                "attributes": attributes(ean=ean13(103), brand=None),
            },
            report={"includedData": ["summaries", "offers", "issues"], "apiVersion": "2021-08-01"},
        ),
    )
    feed, report = finished(raw, feed_id)
    assert feed["processingStatus"] == "DONE" and feed["processingStartTime"] <= feed["processingEndTime"]
    assert report["summary"] == {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 5,
        "messagesAccepted": 4,
        "messagesInvalid": 1,
        "itemSummary": {"items": 2, "errors": 0, "warnings": 0},
    }
    assert report["issues"] == [
        {
            "messageId": 5,
            "sku": "FE-BAD",
            "code": "90220",
            "severity": "ERROR",
            "message": "'brand' is required but not supplied.",
            "attributeName": "brand",
        }
    ]
    assert [i["sku"] for i in report["items"]] == ["FE-NEW", "FE-PATCH"]
    assert (listing(private_sandbox, "FE-PATCH")["quantity"], listing(private_sandbox, "FE-PATCH")["price"]) == (
        42,
        "11.5",
    )
    assert listing(private_sandbox, "FE-NEW")["source"] == "feed"
    assert listing(private_sandbox, "FE-DEL") is None and listing(private_sandbox, "FE-BAD") is None
    truth = next(f for f in private_sandbox.admin("GET", "feeds", params={"seller_id": DEMO}) if f["feedId"] == feed_id)
    assert truth["document"]["messages"][0]["sku"] == "FE-NEW" and truth["accepted"] == 4


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [
        (b"{not json", "4000001", "not valid JSON"),
        (
            '{"header": {"sellerId": "A1MIPDEMOSELLER", "version": "2.0"}, "messages": [{"sku": "caf\xe9"}]}'.encode(
                "latin-1"
            ),
            "4000001",
            "not valid UTF-8",
        ),
        (
            json.dumps(document({"messageId": 1, "sku": "X", "operationType": "DELETE"}, version="1.0")).encode(),
            "4002006",
            "header/version",
        ),
        (json.dumps({"header": {"sellerId": DEMO, "version": "2.0"}, "messages": []}).encode(), "4002006", "messages"),
        (
            json.dumps(document({"messageId": 1, "sku": "X", "operationType": "DELETE"}, sellerId=OTHER)).encode(),
            "4000004",
            OTHER,
        ),
    ],
)
def test_invalid_documents_end_fatal_with_a_report(raw, content, code, needle):
    feed, report = finished(raw, submit(raw, content))
    assert feed["processingStatus"] == "FATAL"
    assert report["issues"][0]["code"] == code and needle in report["issues"][0]["message"], report["issues"]


def test_a_message_breaking_the_schema_fails_the_feed_and_nothing_is_applied(raw, private_sandbox):
    feed, report = finished(
        raw,
        submit(
            raw,
            document(
                {
                    "messageId": 1,
                    "sku": "SCH-OK",
                    "operationType": "UPDATE",
                    "productType": "HOME",
                    "attributes": attributes(ean=ean13(110)),
                },
                {"messageId": 2, "sku": "SCH-BAD", "operationType": "UPDATE", "productType": "HOME"},
                {"messageId": 3, "sku": "SCH-BAD2", "operationType": "DELETE", "attributes": {"x": [{}]}},
            ),
        ),
    )
    assert feed["processingStatus"] == "FATAL"
    assert [(i["messageId"], i["sku"], i["code"]) for i in report["issues"]] == [
        (2, "SCH-BAD", "4002008"),
        (3, "SCH-BAD2", "4002008"),
    ]
    assert "operationType 'UPDATE'" in report["issues"][0]["message"]
    assert listing(private_sandbox, "SCH-OK") is None


def test_size_limits_and_gzip(raw):
    too_many = document(*({"messageId": n, "sku": f"M{n}", "operationType": "DELETE"} for n in range(1, 25_002)))
    feed, report = finished(raw, submit(raw, too_many))
    assert (
        feed["processingStatus"] == "FATAL"
        and report["issues"][0]["code"] == "4000002"
        and "25000" in report["issues"][0]["message"]
    )
    huge = document(
        {
            "messageId": 1,
            "sku": "BIG",
            "operationType": "UPDATE",
            "productType": "HOME",
            "attributes": {"product_description": [{"value": "x" * (10 * 1024 * 1024)}]},
        }
    )
    feed, report = finished(raw, submit(raw, huge))
    assert feed["processingStatus"] == "FATAL" and "10 MiB" in report["issues"][0]["message"]
    zipped = gzip.compress(json.dumps(document({"messageId": 1, "sku": "GZ", "operationType": "DELETE"})).encode())
    feed, report = finished(raw, submit(raw, zipped))
    assert feed["processingStatus"] == "DONE" and report["summary"]["messagesAccepted"] == 1


def test_fatal_partial_and_slow_feed_faults(raw, private_sandbox):
    ok = document(
        *(
            {
                "messageId": n,
                "sku": f"PA-{n}",
                "operationType": "UPDATE",
                "productType": "HOME",
                "attributes": attributes(ean=ean13(200 + n)),
            }
            for n in range(1, 41)
        )
    )
    private_sandbox.set_faults(fatal_feeds=1)
    feed, report = finished(raw, submit(raw, ok))
    assert feed["processingStatus"] == "FATAL" and report["issues"][0]["code"] == "4000005"
    assert listing(private_sandbox, "PA-1") is None
    assert private_sandbox.admin("GET", "faults")["fatal_feeds"] == 0

    private_sandbox.set_faults(partial_acceptance=0.5)
    feed, report = finished(raw, submit(raw, ok))
    rejected = {i["sku"] for i in report["issues"] if i["code"] == "4000003"}
    assert feed["processingStatus"] == "DONE" and 5 < len(rejected) < 35
    assert report["summary"]["messagesAccepted"] == 40 - len(rejected)
    assert {f"PA-{n}" for n in range(1, 41) if listing(private_sandbox, f"PA-{n}")} == {
        f"PA-{n}" for n in range(1, 41)
    } - rejected

    private_sandbox.set_faults(partial_acceptance=0, slow_feeds=20)
    started = time.time()
    feed_id = submit(raw, document({"messageId": 1, "sku": "SLOW", "operationType": "DELETE"}))
    feed, _ = finished(raw, feed_id)
    # (30 s queue + 60 s processing) x 20 / 600, read from the feed's own times (not from how fast we polled)
    took = datetime.fromisoformat(feed["processingEndTime"]) - datetime.fromisoformat(feed["createdTime"])
    assert took.total_seconds() >= 3.0 and time.time() - started >= 3.0, feed
    private_sandbox.reset_faults()
