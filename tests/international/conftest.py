"""International Listing verification tests: a sandbox of this package's own (BIL links toggled), offers put
on the IT marketplace through SP-API and recorded as accepted in mip.listings, like publishing does."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

with contextlib.suppress(ImportError):
    from tests.alerts.conftest import alert_receivers, alerts  # noqa: F401
    from tests.dags.conftest import dagbag, run_dag  # noqa: F401

DEMO = "A1MIPDEMOSELLER"
IT_ID = "APJ6JRA9NG5V4"
TABLES = "mip.international_offers, mip.international_runs"


@pytest.fixture(scope="package")
def bil_sandbox(tmp_path_factory):
    """Time scale 600 and a BIL delay of 10 Amazon minutes: copies appear one real second after the put.
    IT -> ES is switched off (the demo state has it on), IT -> FR stays on."""
    from sandbox.testing import run_sandbox

    with run_sandbox(
        tmp_path_factory.mktemp("bil-spapi"),
        time_scale=600.0,
        extra_args=["--bil-delay-minutes", "10", "--validate-responses"],
    ) as running:
        set_bil(running, "ES", False)
        yield running
        assert running.admin("GET", "contract-violations")["violations"] == []


def set_bil(sandbox, target: str, enabled: bool) -> None:
    sandbox.admin("POST", f"accounts/{DEMO}/bil", json={"source": "IT", "target": target, "enabled": enabled})


def listings(sandbox, country: str, prefix: str = "MIP-") -> dict[str, dict]:
    rows = sandbox.admin("GET", "listings", params={"seller_id": DEMO, "country": country})
    return {r["sku"]: r for r in rows if r["sku"].startswith(prefix)}


def wait_for(check, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)
    return value


def wait_copies(sandbox, skus: list[str], country: str) -> None:
    def copied():
        sandbox.tick()
        return set(skus) <= set(listings(sandbox, country))

    wait_for(copied, what=f"the BIL copies of {skus} in {country}")


_EAN_BASE = [770_000_000_000]


def put_on_it(sandbox, skus: list[str], price: str) -> None:
    """Put the offers on Amazon IT (the main channel's marketplace) with the real SP-API client."""
    from sp_api.api import ListingsItems
    from sp_api.base import Marketplaces

    from tests.sandbox.conftest import attributes, ean13

    client = sandbox.client(ListingsItems, "demo", Marketplaces.IT, version="2021-08-01")
    for sku in skus:
        _EAN_BASE[0] += 1
        body = {
            "productType": "KITCHEN",
            "requirements": "LISTING",
            "attributes": attributes(ean=ean13(_EAN_BASE[0]), price=float(price), name=f"Articolo {sku}"),
        }
        response = client.put_listings_item(sellerId=DEMO, sku=sku, marketplaceIds=[IT_ID], body=body)
        assert response.payload["status"] == "ACCEPTED", response.payload


def accept(db, skus: list[str], price: str, accepted_hours_ago: float) -> None:
    """Record the offers in mip.listings as publishing does once Amazon accepted them on IT."""
    at = datetime.now(UTC) - timedelta(hours=accepted_hours_ago)
    for sku in skus:
        db.execute(
            "INSERT INTO mip.listings (channel_id, sku, marketplace_id, reference, price, quantity, status, "
            "updated_at) VALUES ('it', %s, %s, %s, %s, 5, 'ACCEPTED', %s) ON CONFLICT (channel_id, sku) DO UPDATE "
            "SET price = EXCLUDED.price, updated_at = EXCLUDED.updated_at",
            (sku, IT_ID, sku.removeprefix("MIP-"), Decimal(price), at),
        )
    db.commit()


def publish(sandbox, db, skus: list[str], price: str = "24.90", accepted_hours_ago: float = 48) -> list[str]:
    put_on_it(sandbox, skus, price)
    accept(db, skus, price, accepted_hours_ago)
    return skus


@pytest.fixture
def fresh(db):
    """No accepted offer on IT and no verification recorded, before and after the test."""

    def clean():
        db.execute("DELETE FROM mip.listings WHERE channel_id = 'it'")
        db.execute(f"TRUNCATE {TABLES}")
        db.commit()

    clean()
    yield db
    clean()


def use_connection(monkeypatch, sandbox) -> None:
    """The demo account's connection (AIRFLOW_CONN_...) pointing at ``sandbox``, for dag.test runs."""
    from mip.airflow.setup import sandbox_connection_extra
    from sandbox.testing import forget_access_tokens

    extra = sandbox_connection_extra(sandbox.base_url, sandbox.account("demo"))
    monkeypatch.setenv("AIRFLOW_CONN_AMAZON_SP_API_DEMO", json.dumps({"conn_type": "amazon_sp_api", "extra": extra}))
    forget_access_tokens()
    sandbox.admin("POST", "reset-rate-limits")
