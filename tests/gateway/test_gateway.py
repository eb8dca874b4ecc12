"""The gateway against the sandbox over HTTP with the real python-amazon-sp-api client: every error
class from a sandbox fault, retries, token refresh and the rate header."""

from __future__ import annotations

import pytest
from sp_api.api import ListingsItems, Orders, Sellers

from mip.amazon import errors
from mip.amazon.health import check_account
from mip.config import load_topology


def participations(gateway, country: str = "IT"):
    return gateway.call(
        "getMarketplaceParticipations",
        lambda: gateway.client(Sellers, country).get_marketplace_participation(),
        country=country,
    )


def search(gateway, seller_id: str, country: str):
    market = load_topology().channel(country.lower()).marketplace if country in ("IT", "DE", "FR", "ES") else None
    marketplace_id = market.marketplace_id if market else "A1F83G8C2ARO7P"
    return gateway.call(
        "searchListingsItems",
        lambda: gateway.client(ListingsItems, country).search_listings_items(
            sellerId=seller_id, marketplaceIds=[marketplace_id], pageSize=1
        ),
        country=country,
    )


def test_participations_of_the_demo_account(clean_faults, make_gateway):
    gateway = make_gateway(clean_faults)
    countries = {p["marketplace"]["countryCode"] for p in participations(gateway).payload}
    assert {"IT", "DE", "FR", "ES"} <= countries
    assert gateway.retries == 0


def test_rate_budget_follows_the_sandbox_rate_header(clean_faults, make_gateway):
    gateway = make_gateway(clean_faults)
    participations(gateway)
    rate = gateway.budget.conn.execute(
        "SELECT rate FROM mip.rate_budget WHERE seller_id = %s AND operation = 'getMarketplaceParticipations'",
        (gateway.credentials.seller_id,),
    ).fetchone()[0]
    assert rate == pytest.approx(0.016 * 60)  # the usage plan, times the sandbox's time scale


def test_revoked_refresh_token_fails_at_once_with_the_reset_fix(own_sandbox, make_gateway):
    seller = own_sandbox.account("other")["seller_id"]
    own_sandbox.admin("POST", f"accounts/{seller}/revoke")
    gateway = make_gateway(own_sandbox, "other")
    with pytest.raises(errors.CredentialsInvalid) as caught:
        participations(gateway)
    assert "reset the credentials of account other" in str(caught.value)
    assert gateway.calls == 1 and gateway.retries == 0, "a revoked token must not burn retries"
    fresh = own_sandbox.admin("POST", f"accounts/{seller}/refresh_token")["refresh_token"]
    assert participations(make_gateway(own_sandbox, "other", refresh_token=fresh)).payload


def test_expired_authorization_is_invalid_grant(own_sandbox, make_gateway):
    seller = own_sandbox.account("inactive")["seller_id"]
    own_sandbox.admin("POST", f"accounts/{seller}/authorization", json={"authorized_at": "2025-01-01T00:00:00Z"})
    with pytest.raises(errors.CredentialsInvalid):
        participations(make_gateway(own_sandbox, "inactive"))
    own_sandbox.admin("POST", f"accounts/{seller}/authorization", json={"authorized_at": "2026-11-01T00:00:00Z"})


def test_wrong_client_secret_is_an_application_error(own_sandbox, make_gateway):
    gateway = make_gateway(own_sandbox, lwa_client_secret="not-the-secret")
    with pytest.raises(errors.ApplicationCredentialsInvalid, match="LWA client id/secret"):
        participations(gateway)
    assert gateway.retries == 0


def test_wrong_seller_id_names_the_seller_and_the_fix(own_sandbox, make_gateway):
    gateway = make_gateway(own_sandbox)
    with pytest.raises(errors.SellerIdMismatch) as caught:
        search(gateway, "A2MIPOTHERSELLER", "IT")
    assert "Seller ID A1MIPDEMOSELLER of account 'demo' is wrong" in str(caught.value)


def test_marketplace_not_participating(own_sandbox, make_gateway):
    gateway = make_gateway(own_sandbox)
    with pytest.raises(errors.MarketplaceNotParticipating, match="does not participate in the GB marketplace"):
        search(gateway, "A1MIPDEMOSELLER", "GB")


def test_expired_access_token_is_refreshed_once(own_sandbox, make_gateway):
    gateway = make_gateway(own_sandbox)
    participations(gateway)
    own_sandbox.admin("POST", "accounts/A1MIPDEMOSELLER/expire_access_tokens")
    assert participations(gateway).payload
    assert gateway.retries == 0 and gateway.calls == 3


def test_5xx_bursts_are_retried(clean_faults, make_gateway):
    clean_faults.set_faults(error_5xx_rate=0.5)
    gateway = make_gateway(clean_faults)
    for _ in range(30):  # until a 5xx came (each call: 1 in 2), and was retried into a success
        assert participations(gateway).payload
        if gateway.retries:
            break
    assert gateway.retries > 0


def test_5xx_storm_ends_as_amazon_unavailable(clean_faults, make_gateway):
    clean_faults.set_faults(error_5xx_rate=1.0)
    gateway = make_gateway(clean_faults)
    with pytest.raises(errors.AmazonUnavailable) as caught:
        participations(gateway)
    assert caught.value.retryable and gateway.calls == 5


def test_throttling_storm_is_retried_then_reported(clean_faults, make_gateway):
    clean_faults.set_faults(throttle_storm=True)
    gateway = make_gateway(clean_faults)
    with pytest.raises(errors.Throttled, match="kept throttling getOrders"):
        gateway.call(
            "getOrders",
            lambda: gateway.client(Orders, "IT").get_orders(
                LastUpdatedAfter="2026-11-01T00:00:00Z", MarketplaceIds=["APJ6JRA9NG5V4"]
            ),
            country="IT",
        )
    tokens = gateway.budget.conn.execute(
        "SELECT tokens FROM mip.rate_budget WHERE seller_id = 'A1MIPDEMOSELLER' AND operation = 'getOrders'"
    ).fetchone()[0]
    assert tokens <= 0, "a 429 must empty our bucket"


def test_health_check_finds_every_problem(own_sandbox, make_gateway):
    topology = load_topology()
    demo = topology.account("demo")
    report = check_account(make_gateway(own_sandbox), demo, [c for c in topology.channels if c.account == "demo"])
    assert report.status == "ok", report.message
    assert set(report.channels) == {"it", "de", "fr", "es"}

    participation = "accounts/A1MIPDEMOSELLER/participation"
    own_sandbox.admin("POST", participation, json={"country": "FR", "participating": False})
    try:
        report = check_account(make_gateway(own_sandbox), demo, [c for c in topology.channels if c.account == "demo"])
    finally:
        own_sandbox.admin("POST", participation, json={"country": "FR", "participating": True})
    assert report.status == "failed" and report.error_code == "marketplace_not_participating"
    assert "channel fr" in report.message and "Seller Central" in report.message

    inactive = demo.model_copy(update={"id": "inactive", "seller_id": "A3MIPINACTIVE00"})
    report = check_account(make_gateway(own_sandbox, "inactive"), inactive, [])
    assert report.error_code == "account_not_authorized"
