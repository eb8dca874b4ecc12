"""Runtime faults, account switches, restarts and the session fixture."""

from __future__ import annotations

import time

import httpx
import pytest
from sp_api.api import Orders, Sellers
from sp_api.base import Marketplaces
from sp_api.base.exceptions import SellingApiServerException, SellingApiTemporarilyUnavailableException

from sandbox.testing import SandboxError, forget_access_tokens, run_sandbox
from tests.sandbox.conftest import DEMO, FR, IT, RawApi, attributes, ean13, wait_for

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def test_fault_switches_validate_and_reset(private_sandbox):
    assert private_sandbox.set_faults(throttle_storm={"fraction": 0.25}, error_5xx_rate=0.1)["throttle_storm"] == {
        "enabled": True,
        "fraction": 0.25,
    }
    with pytest.raises(SandboxError, match="between 0 and 1"):
        private_sandbox.set_faults(error_5xx_rate=2)
    with pytest.raises(SandboxError, match="unknown fault"):
        private_sandbox.set_faults(gremlins=True)
    reset = private_sandbox.reset_faults()
    assert reset["throttle_storm"]["enabled"] is False and reset["error_5xx_rate"] == 0


def test_a_held_operation_waits_until_the_test_releases_it(raw: RawApi, private_sandbox):
    """The ``hold`` fault: a call of a held operation waits on arrival; ``proceed`` handles it then (with the
    token and usage plan of that moment), ``drop`` answers 503 and changes nothing; other operations pass."""
    from concurrent.futures import ThreadPoolExecutor

    with pytest.raises(SandboxError, match="unknown operation"):
        private_sandbox.set_faults(hold=["createFeeds"])
    assert private_sandbox.set_faults(hold=["getMarketplaceParticipations"])["hold"] == ["getMarketplaceParticipations"]
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(raw.call, "GET", PARTICIPATIONS)
        wait_for(lambda: private_sandbox.held("getMarketplaceParticipations") == 1, what="the call to be held")
        assert raw.call("GET", f"/orders/v0/orders/{'0' * 3}-0000000-0000000")[0] == 404, "others pass"
        assert not first.done(), "held until released, however long the test takes"
        assert private_sandbox.release("getMarketplaceParticipations") == 1
        assert first.result(timeout=60)[0] == 200
        assert raw.call("GET", PARTICIPATIONS)[0] == 200, "the release lifted the hold"

        private_sandbox.set_faults(hold=["getMarketplaceParticipations"])
        dropped = pool.submit(raw.call, "GET", PARTICIPATIONS)
        wait_for(lambda: private_sandbox.held("getMarketplaceParticipations") == 1, what="the call to be held")
        assert private_sandbox.release("getMarketplaceParticipations", "drop") == 1
        status, body, _ = dropped.result(timeout=60)
        assert status == 503 and body["errors"][0]["code"] == "ServiceUnavailable"

        private_sandbox.set_faults(hold=["getMarketplaceParticipations"])
        reset = pool.submit(raw.call, "GET", PARTICIPATIONS)
        wait_for(lambda: private_sandbox.held("getMarketplaceParticipations") == 1, what="the call to be held")
        assert private_sandbox.reset_faults()["hold"] == []
        assert reset.result(timeout=60)[0] == 200, "resetting the faults lets held calls proceed"
    with pytest.raises(SandboxError, match="outcome"):
        private_sandbox.release("getMarketplaceParticipations", "later")


def test_throttling_storm_and_5xx(raw: RawApi, private_sandbox):
    private_sandbox.admin("POST", "reset-rate-limits")
    private_sandbox.set_faults(throttle_storm=True)
    status, body, headers = raw.call("GET", PARTICIPATIONS)
    assert status == 429 and body["errors"][0]["code"] == "QuotaExceeded" and "x-amzn-RateLimit-Limit" in headers
    private_sandbox.set_faults(throttle_storm={"fraction": 0.5})
    statuses = [raw.call("GET", f"/orders/v0/orders/{'0' * 3}-0000000-0000000")[0] for _ in range(20)]
    assert 3 <= statuses.count(429) <= 17 and statuses.count(404) == 20 - statuses.count(429)
    private_sandbox.set_faults(throttle_storm=False, error_5xx_rate=1.0)
    client = private_sandbox.client(Sellers, "demo", Marketplaces.IT)
    forget_access_tokens()
    with pytest.raises((SellingApiServerException, SellingApiTemporarilyUnavailableException)):
        client.get_marketplace_participation()
    private_sandbox.reset_faults()
    assert raw.call("GET", PARTICIPATIONS)[0] == 200
    calls = private_sandbox.admin("GET", "calls")
    assert calls["getMarketplaceParticipations"]["errors_5xx"] >= 1 and calls["getOrder"]["throttled"] >= 3


def test_truncated_and_malformed_report_documents(raw: RawApi, private_sandbox):
    for n in range(5):
        raw.call(
            "PUT",
            f"/listings/2021-08-01/items/{DEMO}/RPT-{n}",
            {"marketplaceIds": IT},
            {"productType": "HOME", "attributes": attributes(ean=ean13(300 + n))},
        )
    documents = {}
    for fault in ("truncated_reports", "malformed_reports"):
        private_sandbox.reset_faults()
        private_sandbox.set_faults(**{fault: True})
        created = raw.call(
            "POST",
            "/reports/2021-06-30/reports",
            json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [IT]},
        )[1]
        report = wait_for(
            lambda c=created: (
                (r := raw.call("GET", f"/reports/2021-06-30/reports/{c['reportId']}")[1])["processingStatus"] == "DONE"
                and r
            ),
            what="the report",
        )
        url = raw.call("GET", f"/reports/2021-06-30/documents/{report['reportDocumentId']}")[1]["url"]
        documents[fault] = httpx.get(url).content.decode("utf-8")
    private_sandbox.reset_faults()
    header_width = len(documents["truncated_reports"].splitlines()[0].split("\t"))
    truncated = documents["truncated_reports"]
    assert not truncated.endswith("\n") and len(truncated.splitlines()[-1].split("\t")) < header_width
    malformed = documents["malformed_reports"].splitlines()
    widths = [len(line.split("\t")) for line in malformed]
    assert widths.count(header_width) == len(widths) - 2 and any("garbage" in line for line in malformed)


def test_a_marketplace_the_seller_stops_participating_in(raw: RawApi, private_sandbox):
    private_sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "FR", "participating": False})
    status, body, _ = raw.call(
        "GET", "/orders/v0/orders", {"MarketplaceIds": FR, "CreatedAfter": "2024-01-01T00:00:00Z"}
    )
    assert status == 400 and "is not a marketplace this seller participates in" in body["errors"][0]["message"]
    participations = {
        p["marketplace"]["countryCode"]: p["participation"]["isParticipating"]
        for p in raw.call("GET", PARTICIPATIONS)[1]["payload"]
    }
    assert participations["FR"] is False
    private_sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "FR", "participating": True})
    assert (
        raw.call("GET", "/orders/v0/orders", {"MarketplaceIds": FR, "CreatedAfter": "2024-01-01T00:00:00Z"})[0] == 200
    )


def test_state_survives_a_restart_and_the_seed_fixes_the_demo(tmp_path):
    with run_sandbox(tmp_path / "a", seed=5) as first:
        demo = first.account("demo")
        RawApi(first).call(
            "PUT",
            f"/listings/2021-08-01/items/{DEMO}/KEEP",
            {"marketplaceIds": IT},
            {"productType": "HOME", "attributes": attributes(ean=ean13(400))},
        )
    with run_sandbox(tmp_path / "a", seed=99) as again:  # an existing state keeps its own seed
        assert again.account("demo") == demo
        assert again.admin("GET", "listings", params={"sku": "KEEP"})[0]["status"] == ["BUYABLE", "DISCOVERABLE"]
        forget_access_tokens()
        assert again.client(Sellers, "demo", Marketplaces.IT).get_marketplace_participation().payload
    with run_sandbox(tmp_path / "b", seed=5) as same_seed, run_sandbox(tmp_path / "c", seed=6) as other_seed:
        assert same_seed.account("demo")["refresh_token"] == demo["refresh_token"]
        assert same_seed.account("demo")["lwa_client_secret"] == demo["lwa_client_secret"]
        assert other_seed.account("demo")["refresh_token"] != demo["refresh_token"]


def test_background_orders_appear_for_buyable_listings(tmp_path):
    # the demo's CSV-era listings are buyable from the start: orders come from then on, however long the PUT takes
    started = time.time()
    with run_sandbox(tmp_path / "bg", time_scale=600.0, extra_args=["--orders-per-hour", "60"]) as sandbox:
        raw = RawApi(sandbox)
        raw.call(
            "PUT",
            f"/listings/2021-08-01/items/{DEMO}/BG-1",
            {"marketplaceIds": IT},
            {"productType": "HOME", "attributes": attributes(ean=ean13(500))},
        )
        orders = wait_for(
            lambda: sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": "IT"}),
            timeout=15,
            what="background orders",
        )  # 60 per Amazon hour = one per 0.1 real second at scale 600
        sold = {item["SellerSKU"] for o in orders for item in o["OrderItems"]}
        listed = sandbox.admin("GET", "listings", params={"seller_id": DEMO, "marketplace_id": IT})
        buyable = {row["sku"] for row in listed if "BUYABLE" in row["status"]}
        assert sold <= buyable and "BG-1" in buyable  # the demo seller's CSV-era listings sell too
        assert all(o["PurchaseDate"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started - 1)) for o in orders)


def test_the_session_sandbox_fixture(clean_faults):
    sandbox = clean_faults
    demo = sandbox.account("demo")
    assert demo["seller_id"] == DEMO and {m["country"] for m in demo["marketplaces"]} == {"IT", "DE", "FR", "ES"}
    assert {(b["source"], b["target"], b["enabled"]) for b in demo["bil"]} == {("IT", "FR", True), ("IT", "ES", True)}
    assert sandbox.account("inactive")["marketplaces"][0]["participating"] is False
    forget_access_tokens()
    response = sandbox.client(Orders, "demo", Marketplaces.IT).get_orders(
        CreatedAfter="TEST_CASE_200", MarketplaceIds=["ATVPDKIKX0DER"]
    )
    assert response.payload["Orders"][0]["AmazonOrderId"] == "902-1845936-5435065"  # Amazon's static example
    assert float(response.rate_limit) == pytest.approx(0.0167 * 60)
    assert sandbox.admin("GET", "contract-violations")["violations"] == []
