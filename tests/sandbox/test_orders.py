"""Orders behaviour: getOrders' parameter rules, paging, marketplaces, status changes over time, reports."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from sandbox.testing import run_sandbox
from tests.sandbox.conftest import DEMO, FR, IT, RawApi, wait_for

ORDERS = "/orders/v0/orders"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(sandbox, count: int, start: float, end: float, country: str = "IT", **extra) -> list[str]:
    body = {
        "seller_id": DEMO,
        "country": country,
        "count": count,
        "start": start,
        "end": end,
        "skus": ["O-1", "O-2", "O-3"],
        **extra,
    }
    return sandbox.admin("POST", "orders/generate", json=body)["amazon_order_ids"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Either CreatedAfter or LastUpdatedAfter"),
        (
            {"CreatedAfter": "2024-01-01T00:00:00Z", "LastUpdatedBefore": "2024-01-02T00:00:00Z"},
            "cannot be set when CreatedAfter",
        ),
        (
            {"LastUpdatedAfter": "2024-01-01T00:00:00Z", "CreatedBefore": "2024-01-02T00:00:00Z"},
            "cannot be set when LastUpdatedAfter",
        ),
        ({"CreatedAfter": "yesterday"}, "not an ISO 8601"),
        (
            {"CreatedAfter": "2024-01-02T00:00:00Z", "CreatedBefore": "2024-01-01T00:00:00Z"},
            "must be equal to or after",
        ),
        ({"CreatedAfter": "2024-01-01T00:00:00Z", "MaxResultsPerPage": 101}, "between 1 and 100"),
    ],
)
def test_get_orders_parameter_rules(raw: RawApi, params, message):
    status, body, _ = raw.call("GET", ORDERS, {"MarketplaceIds": IT, **params})
    assert status == 400 and body["errors"][0]["code"] == "InvalidInput"
    assert message in body["errors"][0]["message"]


def test_before_bounds_must_be_two_scaled_minutes_old(raw: RawApi):
    now = time.time()
    status, body, _ = raw.call(
        "GET", ORDERS, {"MarketplaceIds": IT, "LastUpdatedAfter": iso(now - 3600), "LastUpdatedBefore": iso(now + 1)}
    )
    assert status == 400 and "at least two minutes before" in body["errors"][0]["message"]
    # at time scale 600 two Amazon minutes are 0.2 real seconds
    status, body, _ = raw.call(
        "GET", ORDERS, {"MarketplaceIds": IT, "LastUpdatedAfter": iso(now - 3600), "LastUpdatedBefore": iso(now - 2)}
    )
    assert status == 200 and body["payload"]["LastUpdatedBefore"] == iso(now - 2)


def test_paging_is_stable_and_marketplaces_are_separate(raw: RawApi, private_sandbox):
    now = time.time()
    italian = set(generate(private_sandbox, 120, now - 86400, now - 3600))
    french = set(generate(private_sandbox, 30, now - 86400, now - 3600, country="FR"))
    seen: list[str] = []
    params = {"MarketplaceIds": IT, "CreatedAfter": iso(now - 2 * 86400), "MaxResultsPerPage": 25}
    while True:
        status, body, _ = raw.call("GET", ORDERS, params)
        assert status == 200, body
        seen += [o["AmazonOrderId"] for o in body["payload"]["Orders"]]
        if len(seen) == 50:  # orders arriving while paging do not disturb the pages already promised
            generate(private_sandbox, 10, now - 86400, now - 3600)
        if "NextToken" not in body["payload"]:
            break
        params = {"MarketplaceIds": IT, "NextToken": body["payload"]["NextToken"]}
    assert len(seen) == len(set(seen)) and italian <= set(seen) and not (french & set(seen))
    status, body, _ = raw.call(
        "GET",
        ORDERS,
        {
            "MarketplaceIds": f"{IT},{FR}",
            "CreatedAfter": iso(now - 2 * 86400),
            "FulfillmentChannels": "MFN",
            "MaxResultsPerPage": 100,
        },
    )
    both = body["payload"]["Orders"]
    assert {o["MarketplaceId"] for o in both} == {IT, FR}
    assert [o["PurchaseDate"] for o in both] == sorted(o["PurchaseDate"] for o in both)


def test_statuses_change_over_scaled_time(private_sandbox):
    now = time.time()
    ids = generate(private_sandbox, 40, now - 1, now)
    orders = private_sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": "IT"})
    mine = {o["AmazonOrderId"]: o for o in orders if o["AmazonOrderId"] in ids}
    first_change = min(
        datetime.fromisoformat(o["ScheduledStatusChanges"][0]["at"]).timestamp()
        for o in mine.values()
        if o["ScheduledStatusChanges"]
    )
    assert all("OrderTotal" not in o for o in mine.values() if o["OrderStatus"] == "Pending")
    wait_for(lambda: time.time() > first_change + 1.5, what="the first status change")
    later = {
        o["AmazonOrderId"]: o
        for o in private_sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": "IT"})
    }
    moved = [i for i in ids if later[i]["OrderStatus"] != "Pending"]
    assert moved, "status changes are applied when they are due"
    for order_id in moved:
        assert later[order_id]["LastUpdateDate"] >= mine[order_id]["LastUpdateDate"]  # second precision
        if later[order_id]["OrderStatus"] in ("Unshipped", "Shipped", "PartiallyShipped"):
            assert later[order_id]["OrderTotal"]["CurrencyCode"] == "EUR"
            assert all("ItemPrice" in item for item in later[order_id]["OrderItems"])


def test_pending_orders_carry_no_prices_and_the_orders_report_matches(tmp_path):
    with run_sandbox(tmp_path / "real-time", time_scale=1.0) as sandbox:
        raw = RawApi(sandbox)
        now = time.time()
        pending = generate(sandbox, 3, now - 5, now)  # Pending for at least 2 real minutes at scale 1
        history = generate(sandbox, 20, now - 40 * 86400, now - 30 * 86400)
        _status, body, _ = raw.call("GET", f"{ORDERS}/{pending[0]}")
        assert body["payload"]["OrderStatus"] == "Pending" and "OrderTotal" not in body["payload"]
        _status, body, _ = raw.call("GET", f"{ORDERS}/{pending[0]}/orderItems")
        assert all("ItemPrice" not in item for item in body["payload"]["OrderItems"])
        _status, body, _ = raw.call("GET", ORDERS, {"MarketplaceIds": IT, "CreatedAfter": iso(now - 3600)})
        assert body["payload"]["Orders"] == []  # younger than the two-minute rule's default bound

        _status, created, _ = raw.call(
            "POST",
            "/reports/2021-06-30/reports",
            json={
                "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                "marketplaceIds": [IT],
                "dataStartTime": iso(now - 60 * 86400),
                "dataEndTime": iso(now - 86400),
            },
        )
        sandbox.admin("POST", "tick")
        report = raw.call("GET", f"/reports/2021-06-30/reports/{created['reportId']}")[1]
        assert report["processingStatus"] == "IN_QUEUE"  # 30 Amazon seconds are 30 real seconds here
    truth = {o["AmazonOrderId"]: o for o in sandbox_orders_after_restart(tmp_path / "real-time")}
    assert set(history) | set(pending) == set(truth)


def sandbox_orders_after_restart(state_dir) -> list[dict]:
    """The state directory survives a restart: the same orders are there."""
    with run_sandbox(state_dir, time_scale=600.0) as sandbox:
        return sandbox.admin("GET", "orders", params={"seller_id": DEMO})


def test_orders_report_rows_follow_the_truth(raw: RawApi, private_sandbox):
    now = time.time()
    generate(private_sandbox, 25, now - 3 * 86400, now - 2 * 86400)
    _status, created, _ = raw.call(
        "POST",
        "/reports/2021-06-30/reports",
        json={
            "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "marketplaceIds": [IT],
            "dataStartTime": iso(now - 4 * 86400),
        },
    )
    report = wait_for(
        lambda: (
            (r := raw.call("GET", f"/reports/2021-06-30/reports/{created['reportId']}")[1])["processingStatus"]
            == "DONE"
            and r
        ),
        what="the orders report",
    )
    import httpx

    url = raw.call("GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}")[1]["url"]
    lines = httpx.get(url).content.decode("utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    truth = [
        o
        for o in private_sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": "IT"})
        if o["LastUpdateDate"] >= iso(now - 4 * 86400)
    ]
    assert len(rows) == sum(len(o["OrderItems"]) for o in truth)
    by_id = {o["AmazonOrderId"]: o for o in truth}
    for row in rows:
        order = by_id[row["amazon-order-id"]]
        expected = "Cancelled" if order["OrderStatus"] == "Canceled" else order["OrderStatus"]
        assert row["order-status"] == expected and row["sales-channel"] == "Amazon.it"
        item = next(i for i in order["OrderItems"] if i["SellerSKU"] == row["sku"])
        assert row["item-price"] == (item["ItemPrice"]["Amount"] if "ItemPrice" in item else "")
