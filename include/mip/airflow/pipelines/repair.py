"""``mip_repair__<account>``: re-run the order imports an outage broke, for the seller that owns each hour.

Scheduled on the account's credentials Asset (``mip://accounts/<account>/credentials``, emitted by
``mip credentials reset`` and the Marketplaces page), or triggered by hand. ``find_gaps`` reads
``mip.order_intervals`` (MIP's own record, not Airflow's metadata database) for every channel of
the account and lists every schedule interval since the channel's first recorded run (no horizon)
that the seller owning it has not imported (mip.orders.sellers: after a Seller ID switch, the hours
before it are the old seller's). ``rerun`` (a TriggerDagRunOperator mapped over them, deferrable)
re-runs each:

- a gap a run tried (failed, e.g. with the revoked token) is re-run *in place*: the trigger names
  that run's id, Airflow answers that it exists and, with ``reset_dag_run=True``, clears it, so the
  red run turns green with its original data interval;
- adjacent gaps no run tried (the DAG was paused, or a run never started) become one new run
  ``repair__<seller>__<start>__<end>`` whose ``conf`` carries ``window_start``/``window_end`` (at most
  ``mip.orders.repair.MAX_NEW_RUN_WINDOW``; a window with many orders goes through the orders report:
  mip.orders.cost);
- an outage with more than ``mip.orders.repair.MAX_IN_PLACE_RERUNS`` failed runs is imported as such windows too
  (thousands of in-place re-runs would cost hours of scheduling): its failed runs stay red in the
  grid, ``mip.order_intervals`` shows the hours imported by the repair's runs.

A previous seller's hours are re-run only when its authorization (kept at the switch, or renewed by
``mip credentials reset --previous-seller``) works: one getMarketplaceParticipations call tells.
Otherwise they are not re-run and stay failed: their runs' ``mip.order_intervals.error`` gets the
recovery, and ``verify`` fails naming them. ``verify`` looks again at every gap and fails, naming
them, while any remains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from airflow.sdk import DAG, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE, sp_api_pool
from mip.airflow.docs import pipeline_doc
from mip.config import Account, Topology

WAIT_POKE_SECONDS = 30
log = logging.getLogger(__name__)


def _authorization_problem(account: Account) -> Callable[[str, str], str | None]:
    """Why the stored authorization of a previous seller cannot read its hours (None: it works): one
    getMarketplaceParticipations call with it."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.hooks.sp_api import seller_gateway
    from mip.amazon import apis

    def problem(seller_id: str, country: str) -> str | None:
        try:
            with seller_gateway(account, seller_id) as gateway:
                gateway.call(
                    "getMarketplaceParticipations",
                    lambda: apis.sellers(gateway, country).get_marketplace_participation(),
                    country=country,
                )
        except AirflowFailException as exc:
            return str(exc)
        return None

    return problem


def _trigger(gap: Any) -> dict[str, Any]:
    from mip.airflow.factories import dag_id

    if gap.run_id:
        log.info("%s of %s: %s in run %s: clearing it", gap.describe(), gap.seller_id, gap.status, gap.run_id)
        return {
            "trigger_dag_id": dag_id("orders", gap.channel_id),
            "trigger_run_id": gap.run_id,
            "logical_date": gap.logical_date.isoformat() if gap.logical_date else None,
            "conf": {},
        }
    run_id = f"repair__{gap.seller_id}__{gap.start:%Y-%m-%dT%H:%M}__{gap.end:%Y-%m-%dT%H:%M}"
    log.info("%s of %s: never imported: new run %s", gap.describe(), gap.seller_id, run_id)
    return {
        "trigger_dag_id": dag_id("orders", gap.channel_id),
        "trigger_run_id": run_id,
        "logical_date": None,
        "conf": {"window_start": gap.start.isoformat(), "window_end": gap.end.isoformat()},
    }


@task(task_id="find_gaps")
def find_gaps(account_id: str) -> list[dict[str, Any]]:
    """Every order interval of the account's channels its seller has not imported -> trigger kwargs."""
    from mip.airflow.adapter import run_account_step
    from mip.config import load_topology
    from mip.orders import repair

    problem = _authorization_problem(load_topology().account(account_id))
    plan = run_account_step(repair.find_gaps, account_id, gateway=True, authorization_problem=problem)
    return [_trigger(gap) for gap in plan]


@task(task_id="verify", trigger_rule="all_done", retries=1)
def verify(account_id: str) -> dict[str, Any]:
    """Fail, naming them, while any order interval of the account is not imported by the seller owning it."""
    from mip.airflow.adapter import run_account_step
    from mip.orders import repair

    return run_account_step(repair.verify, account_id, gateway=True)


def build(topology: Topology, account: Account) -> DAG:
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    from mip.airflow.credentials import credentials_asset

    channels = sorted(c.id for c in topology.channels if c.account == account.id)
    with DAG(
        dag_id=f"mip_repair__{account.id}",
        schedule=[credentials_asset(account.id)],
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["pipeline:repair", f"account:{account.id}"],
        doc_md=f"### Repair after a credential reset — account `{account.id}` (channels {', '.join(channels)})\n\n"
        + pipeline_doc("repair"),
    ) as dag:
        triggers = find_gaps.override(pool=sp_api_pool(account.id))(account.id)
        rerun = TriggerDagRunOperator.partial(
            task_id="rerun",
            reset_dag_run=True,
            wait_for_completion=True,
            deferrable=True,
            poke_interval=WAIT_POKE_SECONDS,
            # a retry triggers again: the run exists, so it is cleared and imports once more
            retries=1,
            openlineage_inject_parent_info=False,
        ).expand_kwargs(triggers)
        rerun >> verify(account.id)
    return dag
