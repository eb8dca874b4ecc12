"""The verification's steps outside Airflow: read the marketplace's listings report, compare, record.

``mip.airflow.pipelines.verify_international`` calls these from its tasks; tests call them directly.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from mip.amazon.gateway import SpApiGateway
from mip.config import Channel
from mip.international import store
from mip.international.compare import Comparison, compare
from mip.international.report import TargetListings, parse
from mip.international.summary import Scope, summary_text

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"


def request_report(gateway: SpApiGateway, channel: Channel) -> str:
    """Ask for the listings report of the channel's marketplace (with the gateway of the channel's account)."""
    from mip.amazon.reports import create_report

    return create_report(gateway, channel.country, REPORT_TYPE, [channel.marketplace.marketplace_id])


def fetch_listings(gateway: SpApiGateway, channel: Channel, report_id: str) -> TargetListings:
    """Download a DONE listings report and read its MIP SKUs; raises ReportDamaged when it cannot be trusted."""
    from mip.amazon.reports import download_report, get_report

    report = get_report(gateway, channel.country, report_id)
    document = download_report(gateway, channel.country, report["reportDocumentId"])
    return parse(document, f"listings report {report_id} ({channel.country})")


def compare_run(
    conn: psycopg.Connection, key: store.RunKey, channel: Channel, main: Channel, target: TargetListings, now: datetime
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
