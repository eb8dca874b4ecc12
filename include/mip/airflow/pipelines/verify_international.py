"""``mip_verify_international__<channel>``: check that Amazon copied the main channel's offers.

check_channel -> request_listings -> wait_listings -> compare [-> check_main_seller] -> verdict

- request_listings: the run's settings (Params, the exchange-rate Variable) -> ``mip.international_runs``;
  requests the ``GET_MERCHANT_LISTINGS_ALL_DATA`` report of the channel's marketplace with the
  channel's own account (it may be another Seller ID than the main channel's).
- wait_listings: reschedule-mode sensor on getReport (no worker slot held between polls); a CANCELLED report
  (Amazon: no data) is an empty one, a FATAL one fails at once with the fix (``mip.amazon.reports``).
- compare: the report against the main channel's accepted offers (``mip.listings``) ->
  ``mip.international_offers`` (per SKU: present or missing with the likely cause, both prices) and
  the run's counts, price summary and verdict; logs the summary. The steps: ``mip.international.steps``.
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

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.airflow.waits import step_sensor
from mip.config import Account, Channel, Topology
from mip.international import steps

ROLES = ("international",)  # the channel roles mip_verify_international__<channel> runs for
POKE_SECONDS = float(os.environ.get("MIP_VERIFY_POKE_SECONDS", "60"))
REPORT_TIMEOUT = timedelta(hours=6)


@task(task_id="request_listings")
def request_listings(channel_id: str) -> dict[str, Any]:
    """Record the run's settings; request the merchant listings report of the channel's marketplace."""
    from airflow.sdk import Variable, get_current_context

    from mip.airflow.adapter import run_step
    from mip.international.settings import EXCHANGE_RATES_VARIABLE

    return run_step(
        steps.request_listings,
        channel_id,
        gateway=True,
        params=dict(get_current_context()["params"]),
        exchange_rates=Variable.get(EXCHANGE_RATES_VARIABLE, default=None),
    )


wait_listings = step_sensor(
    steps.wait_listings, task_id="wait_listings", poke_interval=POKE_SECONDS, timeout=REPORT_TIMEOUT
)


@task(task_id="compare")
def compare(channel_id: str) -> dict[str, Any]:
    """The report against the main channel's accepted offers -> mip.international_offers; the summary."""
    from mip.airflow.adapter import run_step

    return run_step(steps.compare, channel_id, gateway=True)


@task(task_id="check_main_seller")
def check_main_seller(channel_id: str, main_account_id: str) -> dict[str, Any] | None:
    """Only for a channel on another account than its main channel's, after a failed comparison: are the missing
    offers listed in this marketplace under the main channel's Seller ID (BIL copied them to the main seller)?"""
    from mip.airflow.adapter import run_step

    return run_step(steps.check_main_seller, channel_id, gateway=True, account_id=main_account_id)


@task(task_id="verdict")
def verdict(channel_id: str) -> str:
    """Fail with the fix when Build International Listings does not copy; warn when a minority is missing."""
    from mip.airflow.adapter import run_step

    return run_step(steps.verdict, channel_id)


def build(topology: Topology, channel: Channel) -> DAG:
    pool = sp_api_pool(topology.account_of(channel).id)
    with channel_dag(
        "verify_international",
        topology,
        channel,
        schedule="@daily",
        title="International Listing verification",
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
            checked = check_main_seller.override(pool=sp_api_pool(main_account.id))(channel.id, main_account.id)
            compared >> checked >> verdict(channel.id)
        else:
            compared >> verdict(channel.id)
    return dag


def _may_hold_the_copies(main_account: Account, account: Account, channel: Channel) -> bool:
    """Could BIL have copied to the main seller's own account instead of the channel's (another seller of the
    marketplace's region: one authorization covers one region)?"""
    return main_account.seller_id != account.seller_id and main_account.region == channel.marketplace.region
