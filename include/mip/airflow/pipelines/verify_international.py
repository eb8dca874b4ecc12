"""``mip_verify_international__<channel>``: check that Amazon copied the main channel's offers.

check_channel -> request_listings -> wait_listings -> compare [-> check_main_seller] -> verdict

- request_listings: the run's settings (Params, the exchange-rate Variable) -> ``mip.international_runs``;
  requests the ``GET_MERCHANT_LISTINGS_ALL_DATA`` report of the channel's marketplace with the
  channel's own account (it may be another Seller ID than the main channel's).
- wait_listings: reschedule-mode sensor on getReport (no worker slot held between polls).
- compare: the report against the main channel's accepted offers (``mip.listings``) ->
  ``mip.international_offers`` (per SKU: present or missing with the likely cause, both prices) and
  the run's counts, price summary and verdict; prints the summary.
- check_main_seller (only for a channel on another seller account than its main channel's): after a failed
  comparison, looks a sample of the missing offers up in this marketplace under the main channel's Seller ID;
  copies there mean BIL copied to the main seller's own account, i.e. the channel's Seller ID is likely wrong.
- verdict: fails with InternationalSellerIdLikelyWrong (naming both Seller IDs) when check_main_seller found
  copies, else with InternationalListingNotConfigured (and its fix) when nothing was copied or more than
  ``fail_missing_percent`` of the offers due is missing; logs a warning when a minority is.

Why the report and not searchListingsItems: the report costs the same three calls (createReport,
a few getReport, getReportDocument) for 10 or 200,000 listings, while searchListingsItems pages 20
items per call at 5 calls/s per seller, a budget the account's publishing and order DAGs share; a
daily verification does not need the seconds the search would save on a handful of SKUs.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.airflow.hooks.sp_api import account_gateway
from mip.config import Account, Channel, Topology

ROLES = ("international",)  # the channel roles mip_verify_international__<channel> runs for
POKE_SECONDS = float(os.environ.get("MIP_VERIFY_POKE_SECONDS", "60"))
REPORT_TIMEOUT = timedelta(hours=6)
log = logging.getLogger(__name__)

DOC = (
    "Checks that the offers MIP published on the linked main channel (accepted there, `mip.listings`) exist in "
    "this marketplace: Amazon's Build International Listings (BIL) copies them, MIP never publishes here.\n\n"
    "Per SKU (`mip.international_offers`): present, or missing with the likely cause: **not copied yet** (accepted "
    "on the main channel within `copy_delay_hours`, 24 by default), **BIL not configured** (nothing, or nothing "
    "accepted after the newest copy, was copied), **not copied** (later offers were copied, this one was not). The "
    "run fails with the fix when nothing due was copied or more than `fail_missing_percent` is missing, and warns "
    "when a minority is. Its summary (`mip.international_runs.summary`, task `compare`) compares the copies' prices "
    "in the local currency with the main channel's, converted at `exchange_rate` (or the Airflow Variable "
    '`mip_exchange_rates`, e.g. `{"EUR:GBP": 0.85}`; equal currencies need none).'
)


def _run(channel_id: str) -> tuple[Any, Topology, Channel, Channel, Any]:
    """(context, topology, channel, main channel, RunKey) of the running task."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology
    from mip.international.store import RunKey

    context = get_current_context()
    topology = load_topology()
    channel = topology.channel(channel_id)
    main = topology.channel(channel.linked_main or "")
    return context, topology, channel, main, RunKey(channel_id, context["run_id"], context["dag"].dag_id)


def _stored_run(channel_id: str, run_id: str) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.international.store import run_of

    with mip_db() as conn:
        run = run_of(conn, channel_id, run_id)
    if run is None:
        raise AirflowFailException(
            f"run {run_id} of channel {channel_id} has no verification request: clear request_listings"
        )
    return run


@task(task_id="request_listings")
def request_listings(channel_id: str) -> dict[str, Any]:
    """Record the run's settings; request the merchant listings report of the channel's marketplace."""
    from airflow.sdk import Variable
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.international.settings import EXCHANGE_RATES_VARIABLE, SettingsError, verify_settings
    from mip.international.store import accepted_count, start_run
    from mip.international.verify import REPORT_TYPE, request_report

    context, topology, channel, main, key = _run(channel_id)
    account = topology.account_of(channel)
    market, main_market = channel.marketplace, main.marketplace
    try:
        settings = verify_settings(
            dict(context["params"]),
            main_market.currency,
            market.currency,
            Variable.get(EXCHANGE_RATES_VARIABLE, default=None),
        )
    except SettingsError as exc:
        raise AirflowFailException(f"channel {channel_id}: {exc}") from None
    with mip_db() as conn:
        accepted = accepted_count(conn, main.id)
    report_id = None
    if accepted:
        with account_gateway(account) as gateway:
            report_id = request_report(gateway, channel)
    with mip_db() as conn:
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
        print(f"main channel {main.id} has no accepted offer (mip.listings): nothing to verify, no report requested")
    else:
        print(
            f"{accepted:,} offers accepted on {main.id} ({main.country}); requested {REPORT_TYPE} report "
            f"{report_id} of {channel.country} for account {account.id} (Seller ID {account.seller_id})"
        )
    return {"report_id": report_id, "accepted": accepted}


@task.sensor(task_id="wait_listings", poke_interval=POKE_SECONDS, mode="reschedule", timeout=REPORT_TIMEOUT)
def wait_listings(channel_id: str):
    """Poll getReport until the listings report is done."""
    from airflow.sdk import PokeReturnValue
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.amazon.reports import get_report
    from mip.international.store import set_report_status

    _, topology, channel, _, key = _run(channel_id)
    run = _stored_run(channel_id, key.run_id)
    if run["report_id"] is None:
        return PokeReturnValue(is_done=True)
    with account_gateway(topology.account_of(channel)) as gateway:
        status = get_report(gateway, channel.country, run["report_id"])["processingStatus"]
    with mip_db() as conn:
        set_report_status(conn, channel_id, key.run_id, status)
    print(f"report {run['report_id']}: {status}")
    if status in ("FATAL", "CANCELLED"):
        raise AirflowFailException(
            f"Amazon could not produce listings report {run['report_id']} of "
            f"{channel.country} ({status}); clear request_listings to ask for a new one"
        )
    return PokeReturnValue(is_done=status == "DONE")


@task(task_id="compare")
def compare(channel_id: str) -> dict[str, Any]:
    """The report against the main channel's accepted offers -> mip.international_offers; the summary."""
    from datetime import UTC, datetime

    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.international.report import ReportDamaged, TargetListings
    from mip.international.verify import compare_run, fetch_listings

    _, topology, channel, main, key = _run(channel_id)
    run = _stored_run(channel_id, key.run_id)
    target = TargetListings({}, 0)
    if run["report_id"] is not None:
        try:
            with account_gateway(topology.account_of(channel)) as gateway:
                target = fetch_listings(gateway, channel, run["report_id"])
        except ReportDamaged as exc:
            raise AirflowFailException(str(exc)) from None
    with mip_db() as conn:
        result, summary = compare_run(conn, key, channel, main, target, datetime.now(UTC))
    print(summary)
    return {
        "expected": result.expected,
        "present": result.present,
        "missing": result.missing,
        "verdict": result.verdict,
        "median_ratio": str(result.prices.median_ratio),
    }


@task(task_id="check_main_seller")
def check_main_seller(channel_id: str) -> dict[str, Any] | None:
    """Only for a channel on another account than its main channel's, after a failed comparison: are the missing
    offers listed in this marketplace under the main channel's Seller ID (BIL copied them to the main seller)?"""
    from mip.airflow.db import mip_db
    from mip.international.verify import check_main_seller as check

    _, topology, channel, main, key = _run(channel_id)
    if _stored_run(channel_id, key.run_id)["status"] != "failed":
        log.info("the comparison did not fail: nothing to diagnose")
        return None
    with account_gateway(topology.account_of(main)) as gateway, mip_db() as conn:
        checked, found, line = check(conn, gateway, key, channel, main)
    log.info(line)
    return {"checked": checked, "found": found}


@task(task_id="verdict")
def verdict(channel_id: str) -> str:
    """Fail with the fix when Build International Listings does not copy; warn when a minority is missing."""
    from mip.airflow.errors import amazon_errors
    from mip.amazon.errors import InternationalListingNotConfigured, InternationalSellerIdLikelyWrong

    _, topology, channel, main, key = _run(channel_id)
    run = _stored_run(channel_id, key.run_id)
    if run["compared_at"] is None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"run {key.run_id} of channel {channel_id} was not compared: clear compare")
    print(run["summary"])
    if run["status"] == "failed" and run["main_seller_copies"]:
        account, main_account = topology.account_of(channel), topology.account_of(main)
        with amazon_errors():
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
        account = topology.account_of(main)
        with amazon_errors():
            raise InternationalListingNotConfigured(account.id, main.country, channel.country, details=run["summary"])
    if run["status"] == "warning":
        log.warning(
            "channel %s: %s of the offers accepted on %s are missing in %s (see the summary above); "
            "if Build International Listings should copy them, check it in Seller Central",
            channel_id,
            run["bil_not_configured"] + run["not_copied"],
            main.country,
            channel.country,
        )
    return run["status"]


def build(topology: Topology, channel: Channel) -> DAG:
    pool = sp_api_pool(topology.account_of(channel).id)
    with channel_dag(
        "verify_international",
        topology,
        channel,
        schedule="@daily",
        title="International Listing verification",
        what=DOC,
        params={
            "copy_delay_hours": Param(
                24,
                type="number",
                minimum=0,
                description="Offers accepted on the main channel "
                "within this many hours and missing here are 'not copied yet', not a problem.",
            ),
            "fail_missing_percent": Param(
                50,
                type="number",
                minimum=0,
                maximum=100,
                description="Fail when more than this share of the offers due is missing (a smaller share warns).",
            ),
            "exchange_rate": Param(
                None,
                type=["null", "number"],
                exclusiveMinimum=0,
                description="Units of this "
                "channel's currency per 1 of the main channel's, for the price summary. Empty: "
                "1 for equal currencies, else the Airflow Variable mip_exchange_rates.",
            ),
        },
    ) as dag:
        requested = request_listings.override(pool=pool)(channel.id)
        waited = wait_listings.override(pool=pool)(channel.id)
        compared = compare.override(pool=pool)(channel.id)
        check_channel(channel.id) >> requested >> waited >> compared
        main_account = topology.account_of(topology.channel(channel.linked_main or ""))
        if _may_hold_the_copies(main_account, topology.account_of(channel), channel):
            compared >> check_main_seller.override(pool=sp_api_pool(main_account.id))(channel.id) >> verdict(channel.id)
        else:
            compared >> verdict(channel.id)
    return dag


def _may_hold_the_copies(main_account: Account, account: Account, channel: Channel) -> bool:
    """Could BIL have copied to the main seller's own account instead of the channel's (another seller of the
    marketplace's region: one authorization covers one region)?"""
    return main_account.seller_id != account.seller_id and main_account.region == channel.marketplace.region
