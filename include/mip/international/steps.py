"""The steps of ``mip_verify_international__<channel>``, each ``step(key, conn, [gateway], **inputs)``
(``mip.runs``); the DAG runs each as one task (``wait_listings`` as a reschedule-mode sensor).

request_listings -> wait_listings -> compare [-> check_main_seller] -> verdict. The listings report is a
``mip.amazon.reports.ReportJob``: CANCELLED (Amazon had no data: no listing in the marketplace) reads as an empty
report, so every offer due is missing; FATAL fails at once with the fix. This module imports the steps' code only
when a step runs (the DAG file imports it at parse time).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mip.runs import RunKey, StepFailed

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.config import Channel

log = logging.getLogger(__name__)


def main_channel(key: RunKey) -> Channel:
    from mip.config import load_topology

    return load_topology().channel(key.channel.linked_main or "")


def _stored_run(conn: psycopg.Connection, key: RunKey) -> dict[str, Any]:
    from mip.international.store import run_of

    run = run_of(conn, key.channel_id, key.run_id)
    if run is None:
        raise StepFailed(
            f"run {key.run_id} of channel {key.channel_id} has no verification request", fix="clear request_listings"
        )
    return run


def request_listings(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, *, params: dict[str, Any], exchange_rates: Any
) -> dict[str, Any]:
    """Record the run's settings (the Params, the exchange-rate Variable); request the merchant listings report of
    the channel's marketplace with the channel's own account (none when the main channel accepted nothing)."""
    from mip.config import load_topology
    from mip.international.settings import SettingsError, verify_settings
    from mip.international.store import accepted_count, start_run
    from mip.international.verify import listings_job

    channel, main = key.channel, main_channel(key)
    account = load_topology().account_of(channel)
    market, main_market = channel.marketplace, main.marketplace
    try:
        settings = verify_settings(params, main_market.currency, market.currency, exchange_rates)
    except SettingsError as exc:
        raise StepFailed(f"channel {channel.id}: {exc}", fix="correct the run's Params") from None
    accepted = accepted_count(conn, main.id)
    job = listings_job(channel)
    report_id = job.request(gateway) if accepted else None
    start_run(
        conn,
        key,
        main_channel_id=main.id,
        account_id=account.id,
        seller_id=account.seller_id,
        marketplace_id=market.marketplace_id,
        main_marketplace_id=main_market.marketplace_id,
        currency=market.currency,
        main_currency=main_market.currency,
        settings=settings,
        report_id=report_id,
    )
    if report_id is None:
        log.info("main channel %s has no accepted offer (mip.listings): nothing to verify, no report", main.id)
    else:
        log.info(
            "%s offers accepted on %s (%s); requested %s %s for account %s (Seller ID %s)",
            f"{accepted:,}",
            main.id,
            main.country,
            job.what,
            report_id,
            account.id,
            account.seller_id,
        )
    return {"report_id": report_id, "accepted": accepted}


def wait_listings(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> bool:
    """One getReport: is the listings report done (DONE, or CANCELLED: empty)? Its status is recorded."""
    from mip.amazon.reports import ReportFatal
    from mip.international.store import set_report_status
    from mip.international.verify import listings_job

    run = _stored_run(conn, key)
    if run["report_id"] is None:
        return True
    try:
        state = listings_job(key.channel).poll(gateway, run["report_id"])
    except ReportFatal:
        set_report_status(conn, key.channel_id, key.run_id, "FATAL")
        conn.commit()
        raise
    set_report_status(conn, key.channel_id, key.run_id, state.status)
    return state.done


def compare(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> dict[str, Any]:
    """The report against the main channel's accepted offers -> mip.international_offers; the summary."""
    from mip.international.report import ReportDamaged, TargetListings
    from mip.international.verify import compare_run, fetch_listings

    channel = key.channel
    run = _stored_run(conn, key)
    target = TargetListings({}, 0)
    if run["report_id"] is not None:
        try:
            target = fetch_listings(gateway, channel, run["report_id"])
        except ReportDamaged as exc:
            raise StepFailed(str(exc), fix="clear request_listings to ask for a new report") from None
    result, summary = compare_run(conn, key, channel, main_channel(key), target, datetime.now(UTC))
    log.info("%s", summary)
    return {
        "expected": result.expected,
        "present": result.present,
        "missing": result.missing,
        "verdict": result.verdict,
        "median_ratio": str(result.prices.median_ratio),
    }


def check_main_seller(key: RunKey, conn: psycopg.Connection, main_gateway: SpApiGateway) -> dict[str, Any] | None:
    """After a failed comparison, for a channel on another account than its main channel's: are the missing
    offers listed in this marketplace under the main channel's Seller ID (BIL copied them to the main seller)?
    ``main_gateway`` is the main channel's account's."""
    from mip.international.verify import check_main_seller as check

    if _stored_run(conn, key)["status"] != "failed":
        log.info("the comparison did not fail: nothing to diagnose")
        return None
    checked, found, line = check(conn, main_gateway, key, key.channel, main_channel(key))
    log.info("%s", line)
    return {"checked": checked, "found": found}


def verdict(key: RunKey, conn: psycopg.Connection) -> str:
    """Fail with the fix when Build International Listings does not copy; warn when a minority is missing."""
    from mip.amazon.errors import InternationalListingNotConfigured, InternationalSellerIdLikelyWrong
    from mip.config import load_topology

    topology = load_topology()
    channel, main = key.channel, main_channel(key)
    run = _stored_run(conn, key)
    if run["compared_at"] is None:
        raise StepFailed(f"run {key.run_id} of channel {channel.id} was not compared", fix="clear compare")
    log.info("%s", run["summary"])
    account, main_account = topology.account_of(channel), topology.account_of(main)
    if run["status"] == "failed" and run["main_seller_copies"]:
        raise InternationalSellerIdLikelyWrong(
            channel.id,
            account.id,
            account.seller_id,
            main_account.id,
            main_account.seller_id,
            main.country,
            channel.country,
            details=run["summary"],
        )
    if run["status"] == "failed":
        raise InternationalListingNotConfigured(main_account.id, main.country, channel.country, details=run["summary"])
    if run["status"] == "warning":
        log.warning(
            "channel %s: %s of the offers accepted on %s are missing in %s (see the summary above); "
            "if Build International Listings should copy them, check it in Seller Central",
            channel.id,
            run["bil_not_configured"] + run["not_copied"],
            main.country,
            channel.country,
        )
    return run["status"]
