"""The consent URL: Seller Central of the channel's country, or the endpoint override's (the sandbox)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from mip.airflow.page.authorize import consent_url
from mip.airflow.page.connections import ConnectionInfo

APP = "amzn1.sp.solution.0f3c7a9e-1111-2222-3333-444455556666"
CALLBACK = "https://airflow.example.com/mip/marketplaces/callback"


def info(**extra) -> ConnectionInfo:
    return ConnectionInfo("amazon_sp_api_demo", True, {"lwa_client_id": "id", "lwa_client_secret": "s", **extra}, True)


def test_amazon_consent_url_is_the_countrys_seller_central():
    url = consent_url(info(), "DE", APP, "v1.nonce.123.sig", CALLBACK)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sellercentral.amazon.de", "/apps/authorize/consent")
    assert parse_qs(parts.query) == {
        "application_id": [APP],
        "state": ["v1.nonce.123.sig"],
        "version": ["beta"],
        "redirect_uri": [CALLBACK],
    }
    assert urlsplit(consent_url(info(), "JP", APP, "s", CALLBACK)).netloc == "sellercentral.amazon.co.jp"


def test_an_endpoint_override_sends_the_seller_to_the_sandbox():
    url = consent_url(info(endpoint="http://127.0.0.1:8100/"), "IT", APP, "s", CALLBACK)
    assert url.startswith("http://127.0.0.1:8100/apps/authorize/consent?application_id=")
