"""Account health: is the authorization alive, is it the right seller, can each channel sell?

Per account: an LWA token refresh and ``getMarketplaceParticipations`` (the authorization works and
the account may sell); per channel: its marketplace is one the seller participates in, and a
``searchListingsItems`` scoped to the configured Seller ID is accepted (the Seller ID is the one of
the refresh token). Authorization age: a warning from 90 days (Amazon authorizations last 365 days;
re-authorizing every quarter is advised), a failure from 350 days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from mip.amazon import apis, errors
from mip.amazon.gateway import SpApiGateway
from mip.config import Account, Channel

if TYPE_CHECKING:
    import psycopg

    from mip.runs import AccountRunKey

log = logging.getLogger(__name__)

WARN_AFTER_DAYS = 90
FAIL_AFTER_DAYS = 350
EXPIRY_DAYS = 365


@dataclass
class HealthReport:
    account_id: str
    status: str = "ok"  # ok | warning | failed
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    authorization_age_days: int | None = None
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    error_code: str | None = None

    def fail(self, message: str, code: str | None = None) -> None:
        self.problems.append(message)
        self.status = "failed"
        self.error_code = self.error_code or code

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        if self.status == "ok":
            self.status = "warning"

    @property
    def message(self) -> str:
        lines = self.problems + self.warnings
        return "\n".join(lines) if lines else f"account {self.account_id}: all checks passed"

    def details(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "problems": self.problems,
            "warnings": self.warnings,
            "error_code": self.error_code,
        }


def authorization_age_advice(account_id: str, age_days: int | None) -> tuple[str | None, str | None]:
    """(failure, warning) messages for an authorization of ``age_days``."""
    if age_days is None:
        return None, (
            f"account {account_id}: the authorization date is unknown, so MIP cannot warn before the 365-day "
            "expiry. Fix: set authorization_date in its connection (or reset the credentials)"
        )
    left = EXPIRY_DAYS - age_days
    if age_days >= FAIL_AFTER_DAYS:
        return (
            f"account {account_id}: the Amazon authorization is {age_days} days old and expires in {left} days "
            f"(365-day limit). Fix: reset the credentials now ({errors.RESET_HINT})"
        ), None
    if age_days >= WARN_AFTER_DAYS:
        return None, (
            f"account {account_id}: the Amazon authorization is {age_days} days old ({left} days left); "
            f"re-authorizing every quarter is advised. Fix: reset the credentials of account {account_id} "
            f"({errors.RESET_HINT})"
        )
    return None, None


def check_account(
    gateway: SpApiGateway, account: Account, channels: list[Channel], now: datetime | None = None
) -> HealthReport:
    credentials = gateway.credentials
    age = credentials.authorization_age_days(now or datetime.now(UTC))
    report = HealthReport(account.id, authorization_age_days=age)
    if credentials.seller_id != account.seller_id:
        report.fail(
            f"account {account.id}: the topology's seller_id {account.seller_id} differs from the connection's "
            f"{credentials.seller_id}. Fix: after switching accounts, set seller_id: {credentials.seller_id} "
            "in the topology (or reset the credentials of the intended account)",
            "seller_id_mismatch",
        )

    country = channels[0].country if channels else "US"
    try:
        response = gateway.call(
            "getMarketplaceParticipations",
            lambda: apis.sellers(gateway, country).get_marketplace_participation(),
            country=country,
        )
    except errors.AmazonError as exc:
        if exc.retryable:
            raise
        report.fail(f"account {account.id}: {exc}", exc.code)
        return _with_age(report)

    participating = {
        p["marketplace"]["id"]: bool(p.get("participation", {}).get("isParticipating")) for p in response.payload or []
    }
    if not any(participating.values()):
        report.fail(
            str(errors.AccountNotAuthorized(account.id, "no marketplace with isParticipating=true")),
            errors.AccountNotAuthorized.code,
        )

    for channel in channels:
        market = channel.marketplace
        result: dict[str, Any] = {
            "marketplace_id": market.marketplace_id,
            "participating": participating.get(market.marketplace_id, False),
        }
        report.channels[channel.id] = result
        if not result["participating"]:
            problem = errors.MarketplaceNotParticipating(account.id, channel.country)
            report.fail(f"channel {channel.id}: {problem}", problem.code)
            continue
        listings = apis.listings_items(gateway, channel.country)
        try:
            gateway.call(
                "searchListingsItems",
                partial(
                    listings.search_listings_items,
                    sellerId=credentials.seller_id,
                    marketplaceIds=[channel.marketplace.marketplace_id],
                    pageSize=1,
                ),
                country=channel.country,
            )
            result["seller_id_ok"] = True
        except errors.AmazonError as exc:
            if exc.retryable:
                raise
            result["seller_id_ok"] = False
            report.fail(f"channel {channel.id}: {exc}", exc.code)
    return _with_age(report)


def _with_age(report: HealthReport) -> HealthReport:
    failure, warning = authorization_age_advice(report.account_id, report.authorization_age_days)
    if failure:
        report.fail(failure, "authorization_expiring")
    if warning:
        report.warn(warning)
    return report


def check_and_record(key: AccountRunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> HealthReport:
    """The account's health, recorded in ``mip.account_health``; a failed check is recorded (committed), then
    fails the step with ``StepFailed`` (no retry mends an invalid credential). Warnings are the caller's to
    deliver (``HealthReport.warnings``)."""
    import json

    from mip.runs import StepFailed

    account = key.account
    if account is None:
        raise ValueError("the account health check needs an account")
    report = check_account(gateway, account, list(key.channels))
    conn.execute(
        "INSERT INTO mip.account_health (account_id, status, authorization_age_days, message, details)"
        " VALUES (%s, %s, %s, %s, %s)",
        (account.id, report.status, report.authorization_age_days, report.message, json.dumps(report.details())),
    )
    log.info("account %s: %s (authorization %s days old)", account.id, report.status, report.authorization_age_days)
    if report.status == "failed":
        conn.commit()
        raise StepFailed(report.message)
    return report
