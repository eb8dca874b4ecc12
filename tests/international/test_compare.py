"""Comparison logic: per-SKU presence and cause, the verdict, prices, settings and the readable summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mip.international.compare import MainOffer, compare
from mip.international.report import TargetListing, TargetListings
from mip.international.settings import SettingsError, VerifySettings, exchange_rate, verify_settings
from mip.international.summary import Scope, summary_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SCOPE = Scope("fr", "FR", "EUR", "it", "IT", "EUR")
EUR = VerifySettings(exchange_rate=Decimal(1))


def offer(n: int, hours_ago: float, price: str = "20.00") -> MainOffer:
    return MainOffer(f"MIP-R{n}", f"R{n}", Decimal(price), NOW - timedelta(hours=hours_ago))


def target(*items: tuple[str, str | None]) -> TargetListings:
    return TargetListings(
        {sku: TargetListing(sku, Decimal(p) if p else None, "Active", "B0X") for sku, p in items}, other_rows=3
    )


def by_sku(result) -> dict[str, tuple[str, str | None]]:
    return {o.sku: (o.status, o.cause) for o in result.offers}


def test_every_copy_present_is_ok_with_equal_prices():
    offers = [offer(n, 72) for n in range(4)]
    result = compare(offers, target(*((o.sku, "20.00") for o in offers)), NOW, EUR)
    assert (result.verdict, result.present, result.missing, result.extra_copies) == ("ok", 4, 0, 0)
    assert (result.prices.priced, result.prices.median_ratio, result.prices.dearer) == (4, Decimal("1.0000"), 0)
    assert all(o.converted_main_price == Decimal("20.00") for o in result.offers)


def test_nothing_copied_is_bil_not_configured_and_fails():
    result = compare([offer(n, 48) for n in range(5)], target(), NOW, EUR)
    assert set(by_sku(result).values()) == {("missing", "bil_not_configured")}
    assert result.verdict == "failed" and result.due == 5
    text = summary_text(SCOPE, result, Decimal(24), "scheduled__x")
    assert (
        "Verdict: failed: none of the 5 offers accepted on IT more than 24 h ago was copied to FR: Build "
        "International Listings is not configured for IT -> FR"
    ) in text
    assert "Prices: no copy in FR to compare with IT" in text


def test_recently_accepted_offers_are_not_copied_yet_and_do_not_fail():
    result = compare([offer(1, 2), offer(2, 23.5)], target(), NOW, EUR)
    assert set(by_sku(result).values()) == {("missing", "not_copied_yet")}
    assert result.verdict == "ok" and result.due == 0
    assert "nothing due yet: every offer was accepted on IT within the last 24 h" in summary_text(
        SCOPE, result, Decimal(24), "r"
    )
    # the same offers with a shorter configured delay are due, and nothing was copied
    shorter = compare([offer(1, 2), offer(2, 23.5)], target(), NOW, VerifySettings(Decimal(1), Decimal(50), Decimal(1)))
    assert shorter.verdict == "failed" and shorter.causes["bil_not_configured"] == 2


def test_copies_that_stopped_are_bil_not_configured_older_gaps_are_not_copied():
    # R1, R2 accepted 10 and 8 days ago were copied; R0 (12 days) was not although later ones were;
    # R3, R4 (3 and 2 days) came after the newest copy: copying stopped.
    offers = [offer(0, 288), offer(1, 240), offer(2, 192), offer(3, 72), offer(4, 48), offer(5, 1)]
    result = compare(offers, target(("MIP-R1", "20.00"), ("MIP-R2", "20.00"), ("MIP-R9", "3.00")), NOW, EUR)
    assert by_sku(result) == {
        "MIP-R0": ("missing", "not_copied"),
        "MIP-R1": ("present", None),
        "MIP-R2": ("present", None),
        "MIP-R3": ("missing", "bil_not_configured"),
        "MIP-R4": ("missing", "bil_not_configured"),
        "MIP-R5": ("missing", "not_copied_yet"),
    }
    assert result.extra_copies == 1 and result.latest_copied_since == NOW - timedelta(hours=192)
    # 3 of the 5 offers due are missing: 60% > 50% fails; with a 75% threshold it only warns
    assert result.verdict == "failed"
    lenient = compare(
        offers,
        target(("MIP-R1", "20.00"), ("MIP-R2", "20.00")),
        NOW,
        VerifySettings(Decimal(24), Decimal(75), Decimal(1)),
    )
    assert lenient.verdict == "warning"
    text = summary_text(SCOPE, lenient, Decimal(24), "manual__1")
    assert (
        "Verdict: warning: 3 of 5 offers accepted on IT more than 24 h ago are missing in FR (60%, at most 75%" in text
    )
    assert "Missing, for example: MIP-R0 (not_copied, accepted since" in text
    assert "mip.international_offers WHERE channel_id = 'fr' AND run_id = 'manual__1'" in text


def test_a_minority_missing_warns():
    offers = [offer(n, 100 - n) for n in range(10)]
    present = target(*((o.sku, "20.00") for o in offers[:9]))
    result = compare(offers, present, NOW, EUR)
    assert result.verdict == "warning" and result.causes["bil_not_configured"] == 1


def test_price_summary_converts_with_the_rate_and_reads_the_median():
    scope = Scope("se", "SE", "SEK", "it", "IT", "EUR")
    offers = [offer(1, 48, "10.00"), offer(2, 48, "20.00"), offer(3, 48, "30.00")]
    prices = target(("MIP-R1", "115.00"), ("MIP-R2", "253.00"), ("MIP-R3", "414.00"))
    result = compare(offers, prices, NOW, VerifySettings(exchange_rate=Decimal("11.5")))
    ratios = [o.price_ratio for o in result.offers]
    assert ratios == [Decimal("1.0000"), Decimal("1.1000"), Decimal("1.2000")]
    assert result.offers[1].converted_main_price == Decimal("230.000")
    p = result.prices
    assert (p.median_ratio, p.min_ratio, p.max_ratio, p.dearer, p.cheaper) == (
        Decimal("1.1000"),
        Decimal("1.0000"),
        Decimal("1.2000"),
        2,
        0,
    )
    text = summary_text(scope, result, Decimal(24), "r")
    assert (
        "Prices in SE (SEK) vs IT converted at 1 EUR = 11.5 SEK: median ratio 1.100 over 3 copies (min 1.000, "
        "max 1.200); 2 dearer and 0 cheaper by more than 5%"
    ) in text
    assert "Reading: copies in SE sell 10% dearer than on IT; check that this suits SE's market" in text


def test_without_a_rate_prices_are_kept_but_not_compared():
    scope = Scope("uk", "GB", "GBP", "it", "IT", "EUR")
    result = compare([offer(1, 48)], target(("MIP-R1", "17.00")), NOW, VerifySettings())
    only = result.offers[0]
    assert (only.local_price, only.converted_main_price, only.price_ratio) == (Decimal("17.00"), None, None)
    assert result.prices.priced == 0
    assert (
        "no exchange rate is configured: set the run's Param exchange_rate or the Airflow Variable "
        'mip_exchange_rates (e.g. {"EUR:GBP": 1.0})' in summary_text(scope, result, Decimal(24), "r")
    )


def test_no_accepted_offer_means_nothing_to_verify():
    result = compare([], target(("MIP-OLD", "1.00")), NOW, EUR)
    assert (result.verdict, result.expected, result.extra_copies) == ("ok", 0, 1)
    assert "nothing to verify: no offer is accepted on main channel it" in summary_text(SCOPE, result, Decimal(24), "r")


def test_exchange_rates_from_the_param_or_the_variable():
    assert exchange_rate("EUR", "EUR") == 1 and exchange_rate("EUR", "EUR", 1) == 1
    with pytest.raises(SettingsError, match=r"exchange_rate is 1\.2 but both channels sell in EUR"):
        exchange_rate("EUR", "EUR", 1.2)
    assert exchange_rate("EUR", "GBP") is None
    assert exchange_rate("EUR", "GBP", "0.86", '{"EUR:GBP": 0.85}') == Decimal("0.86")
    assert exchange_rate("EUR", "GBP", None, '{"EUR:GBP": 0.85}') == Decimal("0.85")
    assert exchange_rate("GBP", "EUR", None, '{"EUR:GBP": 0.8}') == Decimal("1.25")
    assert exchange_rate("EUR", "SEK", None, '{"EUR:GBP": 0.85}') is None
    with pytest.raises(SettingsError, match="mip_exchange_rates is not valid JSON"):
        exchange_rate("EUR", "GBP", None, "{EUR:GBP}")
    with pytest.raises(SettingsError, match=r"mip_exchange_rates\['EUR:GBP'\] is -1; a rate must be > 0"):
        exchange_rate("EUR", "GBP", None, '{"EUR:GBP": -1}')
    with pytest.raises(SettingsError, match="exchange_rate is 0; give GBP per 1 EUR"):
        exchange_rate("EUR", "GBP", 0)


def test_settings_from_params():
    settings = verify_settings({"copy_delay_hours": 6, "fail_missing_percent": 20, "exchange_rate": None}, "EUR", "EUR")
    assert settings == VerifySettings(Decimal(6), Decimal(20), Decimal(1))
    assert settings.copy_delay == timedelta(hours=6)
    assert verify_settings({}, "EUR", "EUR").copy_delay_hours == 24
    with pytest.raises(SettingsError, match="fail_missing_percent is 120"):
        verify_settings({"fail_missing_percent": 120}, "EUR", "EUR")
    with pytest.raises(SettingsError, match="copy_delay_hours is -1"):
        verify_settings({"copy_delay_hours": -1}, "EUR", "EUR")
