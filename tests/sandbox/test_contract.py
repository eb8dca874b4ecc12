"""The sandbox against Amazon's models: shapes of every served operation, static examples, usage plans."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.spapi import contract
from sandbox.spapi.app import HANDLERS
from sandbox.spapi.demo_listings import csv_era_listings
from sandbox.testing import NO_KEEPALIVE
from tests.sandbox.conftest import DEMO, GB, IT, RawApi, attributes, wait_for

SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "amazon-models"
SERVED = {
    "getMarketplaceParticipations",
    "getOrders",
    "getOrder",
    "getOrderItems",
    "getListingsItem",
    "putListingsItem",
    "patchListingsItem",
    "deleteListingsItem",
    "searchListingsItems",
    "createFeedDocument",
    "createFeed",
    "getFeed",
    "getFeeds",
    "getFeedDocument",
    "createReport",
    "getReport",
    "getReportDocument",
    "createRestrictedDataToken",
    "getOrderAddress",
    "confirmShipment",
    # Notifications API (issue [L]): destinations for an SQS ARN, ORDER_CHANGE subscriptions
    "createDestination",
    "getDestinations",
    "getDestination",
    "deleteDestination",
    "createSubscription",
    "getSubscription",
    "getSubscriptionById",
    "deleteSubscriptionById",
}
# checked against the models (with the real client) in test_contract_fulfilment.py
FULFILMENT = {"createRestrictedDataToken", "getOrderAddress", "confirmShipment"}


def test_model_copies_equal_the_shared_models():
    if not SHARED_MODELS.is_dir():
        pytest.skip(
            f"{SHARED_MODELS} is not present on this machine: the copies in sandbox/amazon_models are compared "
            "with Amazon's models where that folder exists"
        )
    for copy in contract.MODELS_DIR.iterdir():
        if copy.suffix == ".json" or copy.name in ("LICENSE", "NOTICE"):
            assert copy.read_bytes() == (SHARED_MODELS / copy.name).read_bytes(), (
                f"{copy.name} differs from the shared model"
            )


def test_the_served_operations_are_the_issues_list():
    assert set(HANDLERS) == SERVED
    ids = {op.operation_id for op in contract.operations()}
    assert ids >= SERVED


def _check(op_id: str, status: int, body: Any, seen: dict[str, set[int]]) -> None:
    problems = contract.response_errors(contract.operation(op_id), status, body)
    assert not problems, problems
    seen.setdefault(op_id, set()).add(status)


def test_every_served_operation_answers_in_the_models_shapes(raw: RawApi, private_sandbox):
    seen: dict[str, set[int]] = {}
    now = time.time()
    iso = lambda ts: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))  # noqa: E731

    status, body, headers = raw.call("GET", "/sellers/v1/marketplaceParticipations")
    _check("getMarketplaceParticipations", status, body, seen)
    assert status == 200 and float(headers["x-amzn-RateLimit-Limit"]) == pytest.approx(0.016 * 600)
    anonymous = raw.http.get("/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": ""})
    _check("getMarketplaceParticipations", anonymous.status_code, anonymous.json(), seen)

    items = f"/listings/2021-08-01/items/{DEMO}"
    for sku, attrs in (("C-1", attributes()), ("C-2", attributes(ean="4006381333948"))):
        status, body, _ = raw.call(
            "PUT",
            f"{items}/{sku}",
            {"marketplaceIds": IT, "includedData": "issues,identifiers"},
            {"productType": "KITCHEN", "attributes": attrs},
        )
        _check("putListingsItem", status, body, seen)
        assert body["status"] == "ACCEPTED", body
    status, body, _ = raw.call(
        "PUT",
        f"{items}/C-3",
        {"marketplaceIds": IT, "mode": "VALIDATION_PREVIEW"},
        {"productType": "KITCHEN", "attributes": attributes(name=None)},
    )
    _check("putListingsItem", status, body, seen)
    assert body["status"] == "INVALID"
    status, body, _ = raw.call("PUT", f"{items}/C-3", {"marketplaceIds": IT}, {"productType": "KITCHEN"})
    _check("putListingsItem", status, body, seen)
    assert status == 400
    status, body, _ = raw.call(
        "PATCH",
        f"{items}/C-1",
        {"marketplaceIds": IT},
        {
            "productType": "KITCHEN",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}],
                }
            ],
        },
    )
    _check("patchListingsItem", status, body, seen)
    status, body, _ = raw.call("PATCH", f"{items}/C-1", {"marketplaceIds": IT}, {"productType": "KITCHEN"})
    _check("patchListingsItem", status, body, seen)
    assert status == 400 and "patches" in body["errors"][0]["message"]
    status, body, _ = raw.call(
        "GET",
        f"{items}/C-1",
        {
            "marketplaceIds": IT,
            "includedData": ",".join(
                contract.operation("getListingsItem").query_parameters["includedData"].spec["items"]["enum"]
            ),
        },
    )
    _check("getListingsItem", status, body, seen)
    status, body, _ = raw.call("GET", f"{items}/NOPE", {"marketplaceIds": IT})
    _check("getListingsItem", status, body, seen)
    assert status == 404
    status, body, _ = raw.call(
        "GET",
        items,
        {"marketplaceIds": IT, "pageSize": 1, "includedData": "summaries,offers,fulfillmentAvailability,issues"},
    )
    _check("searchListingsItems", status, body, seen)
    csv_era = sum(len(rows) for seller, market, rows in csv_era_listings(1) if (seller, market) == (DEMO, IT))
    assert body["numberOfResults"] == 2 + csv_era and "nextToken" in body["pagination"]
    status, body, _ = raw.call("GET", items, {"marketplaceIds": GB})
    _check("searchListingsItems", status, body, seen)
    assert status == 400
    status, body, _ = raw.call("DELETE", f"{items}/C-2", {"marketplaceIds": IT})
    _check("deleteListingsItem", status, body, seen)
    status, body, _ = raw.call("DELETE", f"{items}/C-2", {"marketplaceIds": "NOT-A-MARKETPLACE"})
    _check("deleteListingsItem", status, body, seen)

    private_sandbox.admin(
        "POST",
        "orders/generate",
        json={
            "seller_id": DEMO,
            "country": "IT",
            "count": 5,
            "skus": ["C-1", "SYN-1"],
            "start": now - 7200,
            "end": now - 600,
        },
    )
    status, body, _ = raw.call(
        "GET", "/orders/v0/orders", {"MarketplaceIds": IT, "CreatedAfter": iso(now - 86400), "MaxResultsPerPage": 2}
    )
    _check("getOrders", status, body, seen)
    assert len(body["payload"]["Orders"]) == 2 and body["payload"]["NextToken"]
    order_id = body["payload"]["Orders"][0]["AmazonOrderId"]
    status, body, _ = raw.call("GET", "/orders/v0/orders", {"MarketplaceIds": IT})
    _check("getOrders", status, body, seen)
    assert status == 400
    for op_id, path in (
        ("getOrder", f"/orders/v0/orders/{order_id}"),
        ("getOrderItems", f"/orders/v0/orders/{order_id}/orderItems"),
    ):
        status, body, _ = raw.call("GET", path)
        _check(op_id, status, body, seen)
        status, body, _ = raw.call("GET", path.replace(order_id, "999-0000000-0000000"))
        _check(op_id, status, body, seen)
        assert status == 404

    status, body, _ = raw.call(
        "POST", "/feeds/2021-06-30/documents", json={"contentType": "application/json; charset=UTF-8"}
    )
    _check("createFeedDocument", status, body, seen)
    bad_status, bad, _ = raw.call("POST", "/feeds/2021-06-30/documents", json={"contentType": 7})
    _check("createFeedDocument", bad_status, bad, seen)
    assert bad_status == 400
    document = {
        "header": {"sellerId": DEMO, "version": "2.0"},
        "messages": [{"messageId": 1, "sku": "C-1", "operationType": "DELETE"}],
    }
    assert raw.http.put(body["url"], content=json.dumps(document).encode()).status_code == 200
    status, feed, _ = raw.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [IT], "inputFeedDocumentId": body["feedDocumentId"]},
    )
    _check("createFeed", status, feed, seen)
    status, body, _ = raw.call(
        "POST",
        "/feeds/2021-06-30/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [IT], "inputFeedDocumentId": "nope"},
    )
    _check("createFeed", status, body, seen)
    done = wait_for(
        lambda: (
            (r := raw.call("GET", f"/feeds/2021-06-30/feeds/{feed['feedId']}"))[1]["processingStatus"] == "DONE" and r
        ),
        what="the feed",
    )
    _check("getFeed", done[0], done[1], seen)
    status, body, _ = raw.call("GET", "/feeds/2021-06-30/feeds/123")
    _check("getFeed", status, body, seen)
    status, body, _ = raw.call("GET", "/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED"})
    assert status == 200 and any(f["feedId"] == feed["feedId"] for f in body["feeds"])
    _check("getFeeds", status, body, seen)
    status, body, _ = raw.call("GET", "/feeds/2021-06-30/feeds")  # feedTypes is required without nextToken
    _check("getFeeds", status, body, seen)
    status, body, _ = raw.call("GET", f"/feeds/2021-06-30/documents/{done[1]['resultFeedDocumentId']}")
    _check("getFeedDocument", status, body, seen)
    status, body, _ = raw.call("GET", "/feeds/2021-06-30/documents/nope")
    _check("getFeedDocument", status, body, seen)

    status, report, _ = raw.call(
        "POST",
        "/reports/2021-06-30/reports",
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [IT]},
    )
    _check("createReport", status, report, seen)
    status, body, _ = raw.call(
        "POST",
        "/reports/2021-06-30/reports",
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [GB]},
    )
    _check("createReport", status, body, seen)
    done = wait_for(
        lambda: (
            (r := raw.call("GET", f"/reports/2021-06-30/reports/{report['reportId']}"))[1]["processingStatus"] == "DONE"
            and r
        ),
        what="the report",
    )
    _check("getReport", done[0], done[1], seen)
    status, body, _ = raw.call("GET", "/reports/2021-06-30/reports/42")
    _check("getReport", status, body, seen)
    status, body, _ = raw.call("GET", f"/reports/2021-06-30/documents/{done[1]['reportDocumentId']}")
    _check("getReportDocument", status, body, seen)
    status, body, _ = raw.call("GET", "/reports/2021-06-30/documents/nope")
    _check("getReportDocument", status, body, seen)
    _notifications_calls(raw, seen)

    assert set(seen) == SERVED - FULFILMENT
    incomplete = {op: s for op, s in seen.items() if not (min(s) < 300 and max(s) >= 400)}
    assert not incomplete, incomplete


def test_responses_without_a_valid_token_are_amazons_403(private_sandbox):
    import httpx

    response = httpx.get(
        f"{private_sandbox.base_url}/orders/v0/orders",
        params={"MarketplaceIds": IT},
        headers={"x-amz-access-token": "Atza|forged"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "The access token you provided is revoked, malformed or invalid.",
            }
        ]
    }
    assert not contract.response_errors(contract.operation("getOrders"), 403, response.json())
    assert float(response.headers["x-amzn-RateLimit-Limit"]) == pytest.approx(0.0167 * 600)


def _example_request(op: contract.Operation, params: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    by_name = {p.name: p for p in op.parameters}
    path = op.path
    query: dict[str, str] = {}
    body = None
    for name, spec in params.items():
        if not isinstance(spec, dict) or "value" not in spec:
            continue
        value = spec["value"]
        location = by_name[name].location
        if location == "path":
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif location == "query":
            query[name] = (
                ",".join(value)
                if isinstance(value, list)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
        else:
            body = value
    for param in op.parameters:  # path parameters the example leaves open
        path = path.replace("{" + param.name + "}", DEMO if param.name == "sellerId" else "ANY")
    return path, query, body


def test_amazons_static_examples_are_replayed(raw: RawApi):
    replayed = 0
    for op in contract.operations():
        # Amazon's confirmShipment example names its body "body" (the parameter is "payload"): replay skipped
        if op.operation_id not in SERVED - FULFILMENT:
            continue
        for status, params, response in op.static_examples():
            path, query, body = _example_request(op, params)
            got_status, got, _ = raw.call(op.method, "/static-sandbox" + path, query, body)
            assert (got_status, got) == (status, response), f"{op.operation_id} {params}"
            addressable = any(
                p.location in ("path", "query") and n in params and "value" in params[n]
                for n, p in ((p.name, p) for p in op.parameters)
            )
            if addressable:  # the normal endpoint answers these examples too
                got_status, got, _ = raw.call(op.method, path, query, body)
                assert (got_status, got) == (status, response), f"{op.operation_id} {params} (normal endpoint)"
            replayed += 1
    assert replayed >= 30
    status, body, _ = raw.call("GET", "/static-sandbox/orders/v0/orders/402-1234567-1234567")
    assert status == 400 and "stubs" in body["errors"][0]["message"]


def _notifications_calls(raw: RawApi, seen: dict[str, set[int]]) -> None:
    """Destinations with a grantless (client_credentials) token, ORDER_CHANGE subscriptions with the seller's."""
    import httpx

    account = raw.sandbox.account("demo")
    token = httpx.post(
        f"{raw.sandbox.base_url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": account["lwa_client_id"],
            "client_secret": account["lwa_client_secret"],
        },
    ).json()["access_token"]
    app = httpx.Client(
        base_url=raw.sandbox.base_url, headers={"x-amz-access-token": token}, timeout=60, limits=NO_KEEPALIVE
    )

    def grantless(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = app.request(method, path, json=body)
        return response.status_code, response.json()

    spec = {"name": "contract", "resourceSpecification": {"sqs": {"arn": "arn:aws:sqs:eu-west-1:123456789012:c"}}}
    status, destination = grantless("POST", "/notifications/v1/destinations", spec)
    _check("createDestination", status, destination, seen)
    _check("createDestination", *grantless("POST", "/notifications/v1/destinations", spec), seen)  # 409
    _check("getDestinations", *grantless("GET", "/notifications/v1/destinations"), seen)
    status, body, _ = raw.call("GET", "/notifications/v1/destinations")  # a seller token: 403
    _check("getDestinations", status, body, seen)
    destination_id = destination["payload"]["destinationId"]
    _check("getDestination", *grantless("GET", f"/notifications/v1/destinations/{destination_id}"), seen)
    _check("getDestination", *grantless("GET", "/notifications/v1/destinations/nope"), seen)
    path = "/notifications/v1/subscriptions/ORDER_CHANGE"
    status, body, _ = raw.call("GET", path)
    _check("getSubscription", status, body, seen)  # 404: none yet
    status, created, _ = raw.call("POST", path, json={"payloadVersion": "1.0", "destinationId": destination_id})
    _check("createSubscription", status, created, seen)
    status, body, _ = raw.call("POST", path, json={"payloadVersion": "1.0", "destinationId": destination_id})
    _check("createSubscription", status, body, seen)  # 409
    _check("getSubscription", *raw.call("GET", path)[:2], seen)
    subscription_id = created["payload"]["subscriptionId"]
    _check("getSubscriptionById", *raw.call("GET", f"{path}/{subscription_id}")[:2], seen)
    _check("getSubscriptionById", *raw.call("GET", f"{path}/nope")[:2], seen)
    _check("deleteSubscriptionById", *raw.call("DELETE", f"{path}/{subscription_id}")[:2], seen)
    _check("deleteSubscriptionById", *raw.call("DELETE", f"{path}/{subscription_id}")[:2], seen)
    _check("deleteDestination", *grantless("DELETE", f"/notifications/v1/destinations/{destination_id}"), seen)
    _check("deleteDestination", *grantless("DELETE", f"/notifications/v1/destinations/{destination_id}"), seen)
