"""The per-run summary of a verification, as a few readable lines (task log and ``international_runs``).

The seed's advice to check market similarity and purchasing power before selling abroad becomes
the price lines: what the copies cost in the local currency against the main channel's price
converted at the configured rate (the median ratio, and how many copies are dearer or cheaper by
more than 5%).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mip.international.compare import PRICE_TOLERANCE, Comparison, PriceSummary
from mip.international.settings import EXCHANGE_RATES_VARIABLE

MAX_EXAMPLES = 5
DIAGNOSIS = "Diagnosis: "


@dataclass(frozen=True)
class Scope:
    """Which channel is verified against which main channel."""

    channel_id: str
    country: str
    currency: str
    main_channel_id: str
    main_country: str
    main_currency: str


@dataclass(frozen=True)
class SellerCheck:
    """A channel on another seller account than its main channel's, checked against the main seller's listings."""

    channel_id: str
    country: str
    seller_id: str
    account_id: str
    main_seller_id: str
    main_account_id: str

    def line(self, checked: int, found: int) -> str:
        main = f"Seller ID {self.main_seller_id} (account {self.main_account_id})"
        where = f"in {self.country} under the main channel's {main}"
        if found:
            return (
                f"{DIAGNOSIS}{found} of {checked} missing offers checked are listed {where}: Amazon copies them to "
                f"the main seller's own account, so the Seller ID of channel {self.channel_id} ({self.seller_id}, "
                f"account {self.account_id}) is likely wrong"
            )
        return (
            f"{DIAGNOSIS}none of {checked} missing offers checked is listed {where}: not a Seller ID mix-up "
            f"between channel {self.channel_id} ({self.seller_id}) and its main channel"
        )


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f} h"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def price_lines(scope: Scope, prices: PriceSummary) -> list[str]:
    here, main = scope.country, scope.main_country
    if prices.exchange_rate is None:
        return [
            f"Prices: {here} sells in {scope.currency}, {main} in {scope.main_currency}, and no exchange rate is "
            f"configured: set the run's Param exchange_rate or the Airflow Variable {EXCHANGE_RATES_VARIABLE} (e.g. "
            f'{{"{scope.main_currency}:{scope.currency}": 1.0}}) to compare them'
        ]
    if not prices.priced:
        return [f"Prices: no copy in {here} to compare with {main}"]
    rate = f"1 {scope.main_currency} = {prices.exchange_rate.normalize():f} {scope.currency}"
    tolerance = f"{PRICE_TOLERANCE * 100:.0f}%"
    lines = [
        f"Prices in {here} ({scope.currency}) vs {main} converted at {rate}: median ratio {prices.median_ratio:.3f} "
        f"over {prices.priced} copies (min {prices.min_ratio:.3f}, max {prices.max_ratio:.3f}); "
        f"{prices.dearer} dearer and {prices.cheaper} cheaper by more than {tolerance}"
    ]
    median = prices.median_ratio or Decimal(1)
    change = abs(median - 1) * 100
    if median > 1 + PRICE_TOLERANCE:
        lines.append(
            f"Reading: copies in {here} sell {change:.0f}% dearer than on {main}; check that this suits "
            f"{here}'s market and purchasing power"
        )
    elif median < 1 - PRICE_TOLERANCE:
        lines.append(
            f"Reading: copies in {here} sell {change:.0f}% cheaper than on {main}; check the margin after "
            f"{here}'s fees, VAT and shipping"
        )
    else:
        lines.append(f"Reading: copies in {here} sell at {main}'s prices (within {tolerance})")
    return lines


def verdict_line(scope: Scope, comparison: Comparison, delay_hours: Decimal) -> str:
    here, main, delay = scope.country, scope.main_country, _hours(delay_hours)
    due, missing = comparison.due, comparison.due_missing
    if comparison.verdict == "ok":
        if comparison.expected == 0:
            return (
                f"Verdict: ok, nothing to verify: no offer is accepted on main channel {scope.main_channel_id} "
                "(mip.listings) yet"
            )
        if due == 0:
            return f"Verdict: ok, nothing due yet: every offer was accepted on {main} within the last {delay}"
        return f"Verdict: ok: every offer accepted on {main} more than {delay} ago is present in {here}"
    if comparison.present == 0:
        return (
            f"Verdict: failed: none of the {due} offers accepted on {main} more than {delay} ago was copied to "
            f"{here}: Build International Listings is not configured for {main} -> {here}"
        )
    share = Decimal(missing) * 100 / due
    limit = _percent(comparison.fail_missing_percent)
    if comparison.verdict == "failed":
        return (
            f"Verdict: failed: {missing} of {due} offers accepted on {main} more than {delay} ago are missing in "
            f"{here} ({share:.0f}%, more than {limit})"
        )
    return (
        f"Verdict: warning: {missing} of {due} offers accepted on {main} more than {delay} ago are missing in "
        f"{here} ({share:.0f}%, at most {limit}: the run does not fail)"
    )


def summary_text(scope: Scope, comparison: Comparison, delay_hours: Decimal, run_id: str) -> str:
    here, main = scope.country, scope.main_country
    causes = comparison.causes
    lines = [
        f"International Listing verification of channel {scope.channel_id} ({here}, {scope.currency}) against main "
        f"channel {scope.main_channel_id} ({main}, {scope.main_currency}), run {run_id}",
        f"Offers accepted on {main}: {comparison.expected}; present in {here}: {comparison.present}; missing: "
        f"{comparison.missing} ({causes['not_copied_yet']} not copied yet: accepted within {_hours(delay_hours)}; "
        f"{causes['bil_not_configured']} BIL not configured; {causes['not_copied']} not copied although later "
        "offers were)",
    ]
    if comparison.extra_copies:
        lines.append(
            f"{comparison.extra_copies} MIP offers in {here} are no longer accepted on {main} (BIL removes "
            "such copies after its delay; if they stay, delete them in Seller Central)"
        )
    lines.extend(price_lines(scope, comparison.prices))
    lines.append(verdict_line(scope, comparison, delay_hours))
    examples = [o for o in comparison.offers if o.cause in ("bil_not_configured", "not_copied")][:MAX_EXAMPLES]
    if examples:
        lines.append(
            "Missing, for example: "
            + ", ".join(f"{o.sku} ({o.cause}, accepted since {o.accepted_since:%Y-%m-%d %H:%M} UTC)" for o in examples)
        )
    if comparison.expected:
        lines.append(
            f"Per SKU: mip.international_offers WHERE channel_id = '{scope.channel_id}' AND run_id = '{run_id}'"
        )
    return "\n".join(lines)
