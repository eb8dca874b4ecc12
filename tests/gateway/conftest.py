"""Helpers of the gateway tests (the fixtures ``own_sandbox`` and ``make_gateway`` are in tests/conftest.py)."""

from __future__ import annotations


def consent_code(sandbox, account: str = "demo", country: str = "IT") -> str:
    """Walk the sandbox's consent page as the seller would; returns the spapi_oauth_code."""
    from urllib.parse import parse_qs, urlparse

    import httpx

    found = sandbox.account(account)
    params = {
        "application_id": found["application_id"],
        "state": "test-state",
        "version": "beta",
        "redirect_uri": "http://127.0.0.1:9/mip/marketplaces/callback",
    }
    answer = httpx.post(
        f"{sandbox.base_url}/apps/authorize/consent",
        data={
            **params,
            "email": found["login_email"],
            "password": found["login_password"],
            "country": country,
            "action": "confirm",
        },
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlparse(answer.headers["location"]).query)["spapi_oauth_code"][0]
