"""python-amazon-sp-api, unmodified, driving every served operation against the sandbox over HTTP."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sp_api.api import Feeds, ListingsItems, Orders, Reports, Sellers
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import CredentialProvider, Marketplaces
from sp_api.base.exceptions import SellingApiForbiddenException, SellingApiRequestThrottledException
from sp_api.util import load_all_pages

from sandbox.spapi.contract import processing_report_validator
from sandbox.testing import forget_access_tokens
from tests.sandbox.conftest import DEMO, IT, attributes, ean13, wait_for


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    forget_access_tokens()
    yield
    forget_access_tokens()


def test_sellers_participations_and_rate_header(private_sandbox):
    response = private_sandbox.client(Sellers, "demo", Marketplaces.IT).get_marketplace_participation()
    countries = {p["marketplace"]["countryCode"]: p["participation"]["isParticipating"] for p in response.payload}
    assert countries == {"IT": True, "DE": True, "FR": True, "ES": True}
    assert float(response.rate_limit) == pytest.approx(0.016 * 600)
    inactive = private_sandbox.client(Sellers, "inactive", Marketplaces.IT).get_marketplace_participation()
    assert {p["participation"]["isParticipating"] for p in inactive.payload} == {False}


def test_orders_every_page_and_items(private_sandbox):
    now = time.time()
    created = private_sandbox.admin(
        "POST",
        "orders/generate",
        json={
            "seller_id": DEMO,
            "country": "IT",
            "count": 230,
            "skus": ["ORD-A", "ORD-B", "ORD-C"],
            "start": now - 3 * 86400,
            "end": now - 3600,
        },
    )["amazon_order_ids"]
    client = private_sandbox.client(Orders, "demo", Marketplaces.IT)

    @load_all_pages(use_rate_limit_header=True)
    def pages(**kwargs):
        return client.get_orders(**kwargs)

    seen = [
        o["AmazonOrderId"]
        for page in pages(LastUpdatedAfter=_iso(timedelta(days=-4)), MarketplaceIds=[IT])
        for o in page.payload["Orders"]
    ]
    assert len(seen) == len(set(seen)) == 230
    assert set(seen) == set(created)
    truth = {
        o["AmazonOrderId"]: o
        for o in private_sandbox.admin("GET", "orders", params={"seller_id": DEMO, "country": "IT"})
    }
    order = client.get_order(seen[0]).payload
    assert order["OrderStatus"] == truth[seen[0]]["OrderStatus"]
    assert order["MarketplaceId"] == IT
    items = client.get_order_items(seen[0]).payload
    assert items["AmazonOrderId"] == seen[0]
    assert {i["SellerSKU"] for i in items["OrderItems"]} <= {"ORD-A", "ORD-B", "ORD-C"}

    big = private_sandbox.admin(
        "POST",
        "orders/generate",
        json={
            "seller_id": DEMO,
            "country": "IT",
            "count": 1,
            "skus": ["ORD-A", "ORD-B"],
            "items_per_order": 35,
            "start": now - 7200,
            "end": now - 3600,
        },
    )["amazon_order_ids"][0]

    @load_all_pages(use_rate_limit_header=True)
    def item_pages(**kwargs):
        return client.get_order_items(big, **kwargs)

    collected = [i for page in item_pages() for i in page.payload["OrderItems"]]
    assert len(collected) == 35 == len({i["OrderItemId"] for i in collected})


def test_listings_put_get_patch_search_delete(private_sandbox):
    client = private_sandbox.client(ListingsItems, "demo", Marketplaces.IT, version="2021-08-01")
    put = client.put_listings_item(
        sellerId=DEMO,
        sku="CL-1",
        marketplaceIds=[IT],
        includedData=["issues", "identifiers"],
        body={"productType": "KITCHEN", "attributes": attributes(ean=ean13(800123456700))},
    )
    assert put.payload["status"] == "ACCEPTED" and put.payload["identifiers"][0]["asin"].startswith("B0")
    preview = client.put_listings_item(
        sellerId=DEMO,
        sku="CL-2",
        marketplaceIds=[IT],
        mode="VALIDATION_PREVIEW",
        body={"productType": "KITCHEN", "attributes": attributes(ean=ean13(800123456701))},
    )
    assert preview.payload["status"] == "VALID"
    item = client.get_listings_item(
        sellerId=DEMO, sku="CL-1", marketplaceIds=[IT], includedData=["summaries", "offers", "fulfillmentAvailability"]
    ).payload
    assert item["summaries"][0]["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert item["offers"][0]["price"] == {"currencyCode": "EUR", "amount": "19.9"}
    patch = client.patch_listings_item(
        sellerId=DEMO,
        sku="CL-1",
        marketplaceIds=[IT],
        body={
            "productType": "KITCHEN",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/purchasable_offer",
                    "value": [
                        {
                            "marketplace_id": IT,
                            "currency": "EUR",
                            "audience": "ALL",
                            "our_price": [{"schedule": [{"value_with_tax": 24.5}]}],
                        }
                    ],
                }
            ],
        },
    )
    assert patch.payload["status"] == "ACCEPTED"
    found = client.search_listings_items(
        sellerId=DEMO, marketplaceIds=[IT], identifiers=["CL-1", "CL-2"], identifiersType="SKU", includedData=["offers"]
    ).payload
    assert found["numberOfResults"] == 1  # the preview stored nothing
    assert found["items"][0]["offers"][0]["price"]["amount"] == "24.5"
    deleted = client.delete_listings_item(sellerId=DEMO, sku="CL-1")  # the client's marketplace (IT) is used
    assert deleted.payload["status"] == "ACCEPTED"
    assert private_sandbox.admin("GET", "listings", params={"seller_id": DEMO, "sku": "CL-1", "country": "IT"}) == []


def _wait_feed(client, feed_id: str) -> dict:
    return wait_for(
        lambda: (f := client.get_feed(feed_id).payload)["processingStatus"] in ("DONE", "FATAL") and f,
        what=f"feed {feed_id}",
    )


def test_feed_submitted_as_utf8_bytes_is_processed_and_reported(private_sandbox):
    client = private_sandbox.client(Feeds, "demo", Marketplaces.IT)
    document = {
        "header": {
            "sellerId": DEMO,
            "version": "2.0",
            "issueLocale": "it_IT",
            "report": {"includedData": ["summaries", "issues"], "apiVersion": "2021-08-01"},
        },
        "messages": [
            {
                "messageId": 1,
                "sku": "FD-1",
                "operationType": "UPDATE",
                "productType": "KITCHEN",
                "attributes": attributes(ean=ean13(800123456702), name="Caffettiera già pronta – 6 tazze"),
            },
            {
                "messageId": 2,
                "sku": "FD-2",
                "operationType": "UPDATE",
                "productType": "KITCHEN",
                "attributes": attributes(
                    ean=ean13(800123456703)[:-1] + "0"
                    if ean13(800123456703)[-1] != "0"
                    else ean13(800123456703)[:-1] + "1"
                ),
            },
        ],
    }
    payload = io.BytesIO(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    _, created = client.submit_feed(
        "JSON_LISTINGS_FEED", payload, content_type="application/json; charset=UTF-8", marketplaceIds=[IT]
    )
    feed = _wait_feed(client, created.payload["feedId"])
    assert feed["processingStatus"] == "DONE"
    report = json.loads(client.get_feed_document(feed["resultFeedDocumentId"]))
    assert not list(processing_report_validator().iter_errors(report))
    assert report["summary"]["messagesAccepted"] == 1 and report["summary"]["messagesInvalid"] == 1
    assert [(i["messageId"], i["code"]) for i in report["issues"]] == [(2, "8602")]
    assert report["items"][0]["summaries"][0]["itemName"] == "Caffettiera già pronta – 6 tazze"

    # a str is encoded latin-1 by the client: Amazon (and the sandbox) refuse the document
    document["messages"][0]["attributes"]["item_name"][0]["value"] = "Caffettiera già pronta"
    _, created = client.submit_feed(
        "JSON_LISTINGS_FEED",
        io.StringIO(json.dumps(document, ensure_ascii=False)),
        content_type="application/json; charset=UTF-8",
        marketplaceIds=[IT],
    )
    feed = _wait_feed(client, created.payload["feedId"])
    assert feed["processingStatus"] == "FATAL"
    report = json.loads(client.get_feed_document(feed["resultFeedDocumentId"]))
    assert report["issues"][0]["code"] == "4000001" and "UTF-8" in report["issues"][0]["message"]

    # getFeeds lists the seller's feeds, newest first, filtered and paged
    listed = client.get_feeds(feedTypes=["JSON_LISTINGS_FEED"], marketplaceIds=[IT], pageSize=1)
    assert listed.payload["feeds"][0]["feedId"] == feed["feedId"] and listed.next_token
    following = client.get_feeds(nextToken=listed.next_token).payload
    assert following["feeds"][0]["processingStatus"] == "DONE"
    assert client.get_feeds(feedTypes=["JSON_LISTINGS_FEED"], processingStatuses=["FATAL"]).payload["feeds"] == [
        {k: v for k, v in feed.items()}
    ]


@pytest.mark.parametrize("compression", ["NONE", "GZIP"])
def test_report_created_polled_and_downloaded(private_sandbox, compression):
    listings = private_sandbox.client(ListingsItems, "demo", Marketplaces.IT, version="2021-08-01")
    listings.put_listings_item(
        sellerId=DEMO,
        sku=f"RP-{compression}",
        marketplaceIds=[IT],
        body={"productType": "KITCHEN", "attributes": attributes(ean=ean13(800123456704))},
    )
    client = private_sandbox.client(Reports, "demo", Marketplaces.IT)
    report_id = client.create_report(
        reportType="GET_MERCHANT_LISTINGS_ALL_DATA",
        marketplaceIds=[IT],
        reportOptions={"sandboxCompression": compression},
    ).payload["reportId"]
    report = wait_for(
        lambda: (r := client.get_report(report_id).payload)["processingStatus"] == "DONE" and r, what="the report"
    )
    document = client.get_report_document(report["reportDocumentId"], download=True)
    assert document.payload.get("compressionAlgorithm") == (None if compression == "NONE" else "GZIP")
    lines = document.payload["document"].splitlines()
    header = lines[0].split("\t")
    assert header[:4] == ["item-name", "item-description", "listing-id", "seller-sku"]
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    mine = next(r for r in rows if r["seller-sku"] == f"RP-{compression}")
    assert (mine["price"], mine["quantity"], mine["status"], mine["fulfillment-channel"]) == (
        "19.9",
        "5",
        "Active",
        "DEFAULT",
    )


def test_lwa_errors_like_amazon(private_sandbox):
    demo = private_sandbox.account("other")
    wrong = {**demo, "lwa_client_secret": "not-the-secret"}
    with pytest.raises(AuthorizationError) as error:
        private_sandbox.client(Sellers, wrong, Marketplaces.IT).get_marketplace_participation()
    assert (error.value.status_code, error.value.error_code) == (401, "invalid_client")

    client = private_sandbox.client(Sellers, demo, Marketplaces.IT)
    client.get_marketplace_participation()
    private_sandbox.admin("POST", f"accounts/{demo['seller_id']}/revoke")
    with pytest.raises(SellingApiForbiddenException, match="revoked"):  # the cached access token died with it
        client.get_marketplace_participation()
    forget_access_tokens()
    with pytest.raises(AuthorizationError) as error:
        client.get_marketplace_participation()
    assert (error.value.status_code, error.value.error_code) == (400, "invalid_grant")
    assert private_sandbox.account("other")["refresh_token_status"] == "revoked"

    fresh = private_sandbox.admin("POST", f"accounts/{demo['seller_id']}/refresh_token")["refresh_token"]
    client = private_sandbox.client(Sellers, demo, Marketplaces.IT, refresh_token=fresh)
    assert client.get_marketplace_participation().payload
    private_sandbox.admin("POST", f"accounts/{demo['seller_id']}/expire_access_tokens")
    with pytest.raises(SellingApiForbiddenException) as expired:
        client.get_marketplace_participation()
    assert expired.value.error[0]["details"] == "The access token you provided has expired."

    private_sandbox.admin(
        "POST", f"accounts/{demo['seller_id']}/authorization", json={"authorized_at": _iso(timedelta(days=-366))}
    )
    forget_access_tokens()
    with pytest.raises(AuthorizationError) as error:
        client.get_marketplace_participation()
    assert error.value.error_code == "invalid_grant"
    assert private_sandbox.account("other")["refresh_token_status"] == "expired"


def test_past_the_burst_amazon_answers_429_with_the_rate_header(private_sandbox):
    private_sandbox.admin("POST", "reset-rate-limits")
    client = private_sandbox.client(Sellers, "demo", Marketplaces.IT)
    throttled = []
    try:
        for _ in range(40):
            try:
                client.get_marketplace_participation()
            except SellingApiRequestThrottledException as exc:
                throttled.append(exc)
    finally:  # the module's next test calls Sellers at once: leave it a full bucket
        private_sandbox.admin("POST", "reset-rate-limits")
    assert throttled, "40 back-to-back calls at 9.6/s with a burst of 15 must be throttled"
    assert throttled[0].amzn_code == "QuotaExceeded"
    assert float(throttled[0].headers["x-amzn-RateLimit-Limit"]) == pytest.approx(9.6)
    calls = private_sandbox.admin("GET", "calls")["getMarketplaceParticipations"]
    assert calls["throttled"] >= len(throttled)


def test_consent_flow_over_http_and_code_exchange(private_sandbox):
    app = private_sandbox.admin("GET", "info")
    consent = f"{private_sandbox.base_url}/apps/authorize/consent"
    params = {
        "application_id": app["application_id"],
        "state": "xyz-123",
        "version": "beta",
        "redirect_uri": "http://127.0.0.1:9/mip/callback",
    }
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(consent, params=params)
        assert page.status_code == 200 and 'id="ap_email"' in page.text
        wrong = browser.post(
            consent,
            data={**params, "email": "demo@mip.example", "password": "nope", "country": "IT", "action": "confirm"},
        )
        assert wrong.status_code == 401 and "incorrect" in wrong.text
        approved = browser.post(
            consent,
            data={
                **params,
                "email": "demo@mip.example",
                "password": "demo-password",
                "country": "IT",
                "action": "confirm",
            },
        )
        assert approved.status_code == 302
        location = urlparse(approved.headers["location"])
        assert (location.hostname, location.port, location.path) == ("127.0.0.1", 9, "/mip/callback")
        back = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert back["state"] == "xyz-123" and back["selling_partner_id"] == DEMO
        again = browser.get(consent, params=params)  # the browser remembers the seller
        assert "Signed in as" in again.text and "demo@mip.example" in again.text
        assert "MD5101" in browser.get(consent, params={**params, "redirect_uri": "https://evil.example/cb"}).text
        assert "MD1000" in browser.get(consent, params={**params, "version": ""}).text

    credentials = CredentialProvider(credentials=private_sandbox.credentials("demo")).credentials
    lwa = private_sandbox.lwa_client_class()(credentials=credentials)
    exchanged = lwa.authorize_auth_code(back["spapi_oauth_code"])
    assert exchanged["refresh_token"].startswith("Atzr|") and exchanged["expires_in"] == 3600
    client = private_sandbox.client(Sellers, "demo", Marketplaces.IT, refresh_token=exchanged["refresh_token"])
    assert client.get_marketplace_participation().payload
    with pytest.raises(AuthorizationError) as reused:
        lwa.authorize_auth_code(back["spapi_oauth_code"])
    assert reused.value.error_code == "invalid_grant"
