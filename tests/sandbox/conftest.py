"""Helpers for the sandbox tests: listing payloads, valid EANs, waiting, a private sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from stdnum import ean as stdnum_ean

from sandbox.testing import NO_KEEPALIVE

IT, DE, FR, ES, GB = "APJ6JRA9NG5V4", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1RKKUPIHCS9HS", "A1F83G8C2ARO7P"
DEMO, OTHER, INACTIVE = "A1MIPDEMOSELLER", "A2MIPOTHERSELLER", "A3MIPINACTIVE00"


def ean13(body: int) -> str:
    """A valid EAN-13 from a 12-digit number (check digit computed)."""
    digits = f"{body:012d}"
    return digits + stdnum_ean.calc_check_digit(digits)


def attributes(
    marketplace_id: str = IT,
    *,
    ean: str | None = "4006381333931",
    price: float | None = 19.9,
    quantity: int | None = 5,
    brand: str | None = "Acme",
    name: str | None = "Coltello da cucina",
    currency: str = "EUR",
    language: str = "it_IT",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    mp = {"marketplace_id": marketplace_id}
    found: dict[str, Any] = {"condition_type": [{"value": "new_new", **mp}]}
    if name is not None:
        found["item_name"] = [{"value": name, "language_tag": language, **mp}]
    if brand is not None:
        found["brand"] = [{"value": brand, **mp}]
    if ean is not None:
        found["externally_assigned_product_identifier"] = [{"type": "ean", "value": ean, **mp}]
    if price is not None:
        found["purchasable_offer"] = [
            {"currency": currency, "audience": "ALL", "our_price": [{"schedule": [{"value_with_tax": price}]}], **mp}
        ]
    if quantity is not None:
        found["fulfillment_availability"] = [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
    found["product_description"] = [{"value": "Una descrizione.", "language_tag": language, **mp}]
    found["bullet_point"] = [{"value": "Acciaio inox", "language_tag": language, **mp}]
    found["main_product_image_locator"] = [{"media_location": "https://images.example/1.jpg", **mp}]
    found.update(extra or {})
    return found


def wait_for(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


@pytest.fixture(scope="module")
def private_sandbox(tmp_path_factory):
    """A sandbox of this test module alone (time scale 600), free to revoke, switch and break."""
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("spapi-private"), time_scale=600.0, extra_args=["--validate-responses"]
    ) as running:
        yield running
        violations = running.admin("GET", "contract-violations")["violations"]
    assert not violations, f"responses that break Amazon's models: {violations[:5]}"


class RawApi:
    """Plain HTTP calls to the sandbox's SP-API with an account's access token (status, body, headers)."""

    def __init__(self, sandbox, account: str = "demo") -> None:
        import httpx

        self.sandbox = sandbox
        found = sandbox.account(account)
        self.seller_id = found["seller_id"]
        token = httpx.post(
            f"{sandbox.base_url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": found["refresh_token"],
                "client_id": found["lwa_client_id"],
                "client_secret": found["lwa_client_secret"],
            },
        ).json()["access_token"]
        self.http = httpx.Client(
            base_url=sandbox.base_url, headers={"x-amz-access-token": token}, timeout=60, limits=NO_KEEPALIVE
        )

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ):
        response = self.http.request(method, path, params=params, json=json, content=content)
        return response.status_code, response.json(), response.headers


@pytest.fixture(scope="module")
def raw(private_sandbox) -> RawApi:
    return RawApi(private_sandbox)
