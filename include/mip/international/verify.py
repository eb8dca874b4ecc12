"""The verification's steps outside Airflow: read the marketplace's listings report, compare, record.

``mip.airflow.pipelines.verify_international`` calls these from its tasks; tests call them directly.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from mip.amazon import apis
from mip.amazon.errors import MarketplaceNotParticipating
from mip.amazon.gateway import SpApiGateway
from mip.amazon.reports import ReportJob
from mip.config import Channel
from mip.international import store
from mip.international.compare import Comparison, compare
from mip.international.report import TargetListings, parse
from mip.international.summary import DIAGNOSIS, Scope, SellerCheck, summary_text
from mip.runs import RunKey

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
# searchListingsItems takes up to 20 identifiers: one call checks a sample of the missing offers
SELLER_CHECK_SAMPLE = 20


def listings_job(channel: Channel) -> ReportJob:
    """The merchant listings report of the channel's marketplace (``mip.amazon.reports``: CANCELLED, Amazon's
    "no data", reads as an empty report; FATAL fails with the fix)."""
    return ReportJob("listings report", REPORT_TYPE, channel.country, (channel.marketplace.marketplace_id,))


def request_report(gateway: SpApiGateway, channel: Channel) -> str:
    """Ask for the listings report of the channel's marketplace (with the gateway of the channel's account)."""
    return listings_job(channel).request(gateway)


def fetch_listings(gateway: SpApiGateway, channel: Channel, report_id: str) -> TargetListings:
    """A finished listings report's MIP SKUs (none for a CANCELLED one: the seller has no listing there);
    raises ReportDamaged when it cannot be trusted."""
    text = listings_job(channel).read(gateway, report_id)
    if not text:
        return TargetListings({}, 0)
    return parse(text, f"listings report {report_id} ({channel.country})")


def compare_run(
    conn: psycopg.Connection, key: RunKey, channel: Channel, main: Channel, target: TargetListings, now: datetime
) -> tuple[Comparison, str]:
    """Compare the main channel's accepted offers with ``target``; record per SKU and the run's summary."""
    run = store.run_of(conn, key.channel_id, key.run_id)
    if run is None:
        raise LookupError(f"run {key.run_id} of channel {key.channel_id} was never requested (international_runs)")
    settings = store.settings_of(run)
    result = compare(store.main_offers(conn, main.id, channel.id, key.run_id), target, now, settings)
    scope = Scope(channel.id, channel.country, run["currency"], main.id, main.country, run["main_currency"])
    text = summary_text(scope, result, settings.copy_delay_hours, key.run_id)
    store.save(conn, key.channel_id, key.run_id, result, text)
    return result, text


def listed_skus(gateway: SpApiGateway, channel: Channel, seller_id: str, skus: list[str]) -> set[str]:
    """Which of ``skus`` (at most 20) ``seller_id`` lists in the channel's marketplace (one searchListingsItems)."""
    if not skus:
        return set()
    client = apis.listings_items(gateway, channel.country)
    response = gateway.call(
        "searchListingsItems",
        lambda: client.search_listings_items(
            sellerId=seller_id,
            marketplaceIds=[channel.marketplace.marketplace_id],
            identifiers=skus[:SELLER_CHECK_SAMPLE],
            identifiersType="SKU",
            pageSize=SELLER_CHECK_SAMPLE,
        ),
        country=channel.country,
    )
    return {item["sku"] for item in (response.payload or {}).get("items", [])} & set(skus)


def check_main_seller(
    conn: psycopg.Connection, main_gateway: SpApiGateway, key: RunKey, channel: Channel, main: Channel
) -> tuple[int, int, str]:
    """Look up a sample of the run's missing offers in the channel's marketplace under the main channel's Seller
    ID; records and returns (checked, found there, the summary's diagnosis line)."""
    run = store.run_of(conn, key.channel_id, key.run_id)
    if run is None:
        raise LookupError(f"run {key.run_id} of channel {key.channel_id} was never requested (international_runs)")
    sample = store.missing_due_skus(conn, key.channel_id, key.run_id, SELLER_CHECK_SAMPLE)
    main_seller = main_gateway.credentials.seller_id
    try:
        found = listed_skus(main_gateway, channel, main_seller, sample)
    except MarketplaceNotParticipating:
        found, note = set(), f" (the main seller does not sell in {channel.country})"
    else:
        note = ""
    seller = SellerCheck(channel.id, channel.country, run["seller_id"], run["account_id"], main_seller, main.account)
    line = seller.line(len(sample), len(found)) + note
    kept = [text for text in (run["summary"] or "").splitlines() if not text.startswith(DIAGNOSIS)]  # a re-run
    store.record_main_seller_check(conn, key.channel_id, key.run_id, len(sample), len(found), "\n".join([*kept, line]))
    return len(sample), len(found), line
