"""Comparing the main channel's accepted offers with the listings present in an International Listing
marketplace: per SKU present or missing, the likely cause of each absence, the run's verdict.

Causes of a missing copy (Amazon never says why BIL did not copy an offer, so these are inferences):

- ``not_copied_yet``: the offer was accepted on the main channel within the copy delay (default
  24 h); Amazon may simply not have copied it yet. Never a warning.
- ``bil_not_configured``: nothing accepted on the main channel was copied, or nothing accepted
  after the newest copied offer was: Build International Listings is off for this marketplace (or
  was switched off then).
- ``not_copied``: offers accepted later than this one were copied, so the link works: Amazon did
  not copy this offer (e.g. the product cannot be sold in this marketplace) or the copy was removed.

Verdict over the offers old enough to be copied: ``ok`` when none is missing, ``failed`` when nothing
was copied at all or more than ``fail_missing_percent`` of them are missing, ``warning`` otherwise
(a minority missing).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from mip.international.report import TargetListings
from mip.international.settings import VerifySettings

Cause = Literal["not_copied_yet", "bil_not_configured", "not_copied"]
CAUSES: tuple[Cause, ...] = ("not_copied_yet", "bil_not_configured", "not_copied")
Verdict = Literal["ok", "warning", "failed"]
# A copy whose price differs from the converted main price by more than this share is counted apart.
PRICE_TOLERANCE = Decimal("0.05")
RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class MainOffer:
    """An offer Amazon accepted on the main channel (``mip.listings``), with when it was first seen accepted."""

    sku: str
    reference: str | None
    price: Decimal | None
    accepted_since: datetime


@dataclass(frozen=True)
class OfferResult:
    sku: str
    reference: str | None
    main_price: Decimal | None
    accepted_since: datetime
    present: bool
    cause: Cause | None = None
    local_price: Decimal | None = None
    converted_main_price: Decimal | None = None
    price_ratio: Decimal | None = None
    target_status: str | None = None
    target_asin: str | None = None

    @property
    def status(self) -> str:
        return "present" if self.present else "missing"


@dataclass(frozen=True)
class PriceSummary:
    exchange_rate: Decimal | None
    priced: int = 0
    median_ratio: Decimal | None = None
    min_ratio: Decimal | None = None
    max_ratio: Decimal | None = None
    dearer: int = 0  # copies priced more than PRICE_TOLERANCE above the converted main price
    cheaper: int = 0  # ... below it


@dataclass(frozen=True)
class Comparison:
    offers: list[OfferResult]
    prices: PriceSummary
    extra_copies: int  # MIP SKUs in the marketplace that the main channel no longer has accepted
    due: int  # offers accepted before the copy delay: old enough to be copied
    latest_copied_since: datetime | None
    causes: Counter = field(default_factory=Counter)
    verdict: Verdict = "ok"
    fail_missing_percent: Decimal = Decimal(50)

    @property
    def expected(self) -> int:
        return len(self.offers)

    @property
    def present(self) -> int:
        return sum(1 for o in self.offers if o.present)

    @property
    def missing(self) -> int:
        return self.expected - self.present

    @property
    def due_missing(self) -> int:
        return self.causes["bil_not_configured"] + self.causes["not_copied"]


def _cause(offer: MainOffer, cutoff: datetime, latest_copied: datetime | None) -> Cause:
    if offer.accepted_since > cutoff:
        return "not_copied_yet"
    if latest_copied is None or offer.accepted_since > latest_copied:
        return "bil_not_configured"
    return "not_copied"


def _ratio(local: Decimal | None, main: Decimal | None, rate: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """(converted main price, local / converted) when both prices and the rate are known."""
    if local is None or main is None or rate is None or main <= 0:
        return None, None
    converted = main * rate
    return converted, (local / converted).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def price_summary(offers: Iterable[OfferResult], rate: Decimal | None) -> PriceSummary:
    ratios = [o.price_ratio for o in offers if o.price_ratio is not None]
    if not ratios:
        return PriceSummary(rate)
    median = Decimal(statistics.median(ratios)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)
    return PriceSummary(
        rate,
        priced=len(ratios),
        median_ratio=median,
        min_ratio=min(ratios),
        max_ratio=max(ratios),
        dearer=sum(1 for r in ratios if r > 1 + PRICE_TOLERANCE),
        cheaper=sum(1 for r in ratios if r < 1 - PRICE_TOLERANCE),
    )


def verdict(present: int, due: int, due_missing: int, fail_missing_percent: Decimal) -> Verdict:
    if due_missing == 0:
        return "ok"
    if present == 0 or Decimal(due_missing) * 100 > fail_missing_percent * due:
        return "failed"
    return "warning"


def compare(main: Iterable[MainOffer], target: TargetListings, now: datetime, settings: VerifySettings) -> Comparison:
    """Per offer of the main channel: present in the target marketplace or missing (with the likely cause)."""
    offers = sorted(main, key=lambda o: o.sku)
    cutoff = now - settings.copy_delay
    copied = [o.accepted_since for o in offers if o.sku in target.listings]
    latest_copied = max(copied) if copied else None
    rate = settings.exchange_rate
    results: list[OfferResult] = []
    for offer in offers:
        found = target.listings.get(offer.sku)
        if found is None:
            results.append(
                OfferResult(
                    offer.sku,
                    offer.reference,
                    offer.price,
                    offer.accepted_since,
                    False,
                    cause=_cause(offer, cutoff, latest_copied),
                )
            )
            continue
        converted, ratio = _ratio(found.price, offer.price, rate)
        results.append(
            OfferResult(
                offer.sku,
                offer.reference,
                offer.price,
                offer.accepted_since,
                True,
                local_price=found.price,
                converted_main_price=converted,
                price_ratio=ratio,
                target_status=found.status,
                target_asin=found.asin,
            )
        )
    causes = Counter({cause: 0 for cause in CAUSES})
    causes.update(r.cause for r in results if r.cause is not None)
    due = sum(1 for o in offers if o.accepted_since <= cutoff)
    due_missing = causes["bil_not_configured"] + causes["not_copied"]
    return Comparison(
        results,
        price_summary(results, rate),
        extra_copies=len(set(target.listings) - {o.sku for o in offers}),
        due=due,
        latest_copied_since=latest_copied,
        causes=causes,
        verdict=verdict(len(copied), due, due_missing, settings.fail_missing_percent),
        fail_missing_percent=settings.fail_missing_percent,
    )
