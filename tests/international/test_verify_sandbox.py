"""The verification's steps without Airflow, against the sandbox: prices compared across currencies with a
configured rate (Amazon's BIL converts EUR -> GBP), a damaged report refused instead of reporting absences."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mip.config import parse_topology
from mip.international.report import ReportDamaged
from mip.international.settings import verify_settings
from mip.international.store import start_run
from mip.international.verify import compare_run, fetch_listings, request_report
from mip.runs import RunKey
from tests.international.conftest import DEMO, publish, set_bil, wait_copies, wait_for

TOPOLOGY = parse_topology(
    "accounts:\n"
    "  - {id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: amazon_sp_api_demo}\n"
    "channels:\n"
    "  - {id: it, account: demo, country: IT, role: main}\n"
    "  - {id: uk, account: demo, country: GB, role: international, linked_main: it}\n"
    "  - {id: fr, account: demo, country: FR, role: international, linked_main: it}\n",
    "test topology",
)
IT, UK, FR = (TOPOLOGY.channel(c) for c in ("it", "uk", "fr"))


def requested(db, gateway, channel, run_id: str, settings, report_id: str | None = None) -> tuple[RunKey, str]:
    """The request step: the report (unless given) and the run's row."""
    from mip.amazon.reports import get_report

    report_id = report_id or request_report(gateway, channel)
    key = RunKey(channel, run_id, "test_verify")
    start_run(
        db,
        key,
        main_channel_id="it",
        account_id="demo",
        seller_id=DEMO,
        marketplace_id=channel.marketplace.marketplace_id,
        main_marketplace_id=IT.marketplace.marketplace_id,
        currency=channel.marketplace.currency,
        main_currency="EUR",
        settings=settings,
        report_id=report_id,
    )
    db.commit()
    wait_for(
        lambda: get_report(gateway, channel.country, report_id)["processingStatus"] == "DONE",
        what=f"report {report_id}",
    )
    return key, report_id


@pytest.fixture
def gb_enabled(bil_sandbox):
    bil_sandbox.admin("POST", f"accounts/{DEMO}/participation", json={"country": "GB", "participating": True})
    set_bil(bil_sandbox, "GB", True)
    yield bil_sandbox
    set_bil(bil_sandbox, "GB", False)


def test_prices_in_the_local_currency_against_the_main_channel_converted(gb_enabled, make_gateway, fresh):
    db = fresh
    skus = publish(gb_enabled, db, [f"MIP-GB{n}" for n in range(3)], price="30.00")
    wait_copies(gb_enabled, skus, "GB")
    gateway = make_gateway(gb_enabled)
    key, report_id = requested(db, gateway, UK, "gb-1", verify_settings({}, "EUR", "GBP", '{"EUR:GBP": 0.85}'))
    result, text = compare_run(db, key, UK, IT, fetch_listings(gateway, UK, report_id), datetime.now(UTC))
    db.commit()
    assert result.verdict == "ok" and result.present == 3
    assert {(o.local_price, o.converted_main_price, o.price_ratio) for o in result.offers} == {
        (Decimal("25.5"), Decimal("25.5000"), Decimal("1.0000"))
    }  # Amazon converted 30 EUR at 0.85
    assert "Prices in GB (GBP) vs IT converted at 1 EUR = 0.85 GBP: median ratio 1.000 over 3 copies" in text
    assert "Reading: copies in GB sell at IT's prices" in text
    stored = db.execute(
        "SELECT median_ratio, exchange_rate, summary FROM mip.international_runs WHERE run_id = 'gb-1'"
    ).fetchone()
    assert stored == (Decimal("1.0000"), Decimal("0.850000"), text)

    # at the seller's own (lower) rate the same copies read 6% dearer than on IT
    key, _ = requested(db, gateway, UK, "gb-2", verify_settings({"exchange_rate": 0.8}, "EUR", "GBP"), report_id)
    result, text = compare_run(db, key, UK, IT, fetch_listings(gateway, UK, report_id), datetime.now(UTC))
    assert result.prices.median_ratio == Decimal("1.0625") and result.prices.dearer == 3
    assert "Reading: copies in GB sell 6% dearer than on IT; check that this suits GB's market and purchasing" in text

    # without any rate the local prices are kept and the summary says how to configure one
    key, _ = requested(db, gateway, UK, "gb-3", verify_settings({}, "EUR", "GBP"), report_id)
    result, text = compare_run(db, key, UK, IT, fetch_listings(gateway, UK, report_id), datetime.now(UTC))
    assert result.prices.priced == 0 and {o.local_price for o in result.offers} == {Decimal("25.5")}
    assert "no exchange rate is configured: set the run's Param exchange_rate or the Airflow Variable" in text


def test_a_damaged_report_is_refused_instead_of_reporting_missing_copies(bil_sandbox, make_gateway, fresh):
    publish(bil_sandbox, fresh, [f"MIP-DMG{n}" for n in range(3)])
    gateway = make_gateway(bil_sandbox)
    bil_sandbox.set_faults(malformed_reports=True)
    try:
        _, report_id = requested(fresh, gateway, FR, "damaged", verify_settings({}, "EUR", "EUR"))
        with pytest.raises(ReportDamaged, match=rf"listings report {report_id} \(FR\): line \d+ has 28 fields") as err:
            fetch_listings(gateway, FR, report_id)
        assert "clear its request_listings task" in str(err.value)
    finally:
        bil_sandbox.reset_faults()
