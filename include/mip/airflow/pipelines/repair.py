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
  ``MAX_NEW_RUN_WINDOW``; a window with many orders goes through the orders report:
  mip.orders.cost);
- an outage with more than ``MAX_IN_PLACE_RERUNS`` failed runs is imported as such windows too
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
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE, sp_api_pool
from mip.airflow.docs import pipeline_doc
from mip.config import Account, Topology

MAX_NEW_RUN_WINDOW = timedelta(days=31)
MAX_IN_PLACE_RERUNS = 48
WAIT_POKE_SECONDS = 30
LISTED = 20
log = logging.getLogger(__name__)


def _account_gaps(account: Account) -> tuple[str, list[Any]]:
    """(the account's Seller ID now, the gaps of all its channels for every seller they had)."""
    from mip.airflow.db import mip_db
    from mip.airflow.hooks.sp_api import SpApiHook
    from mip.config import load_topology
    from mip.orders import intervals
    from mip.orders.sellers import seller_periods

    current = SpApiHook(account.connection_id, account.id).credentials().seller_id
    found = []
    with mip_db() as conn:
        periods = seller_periods(conn, account.id, current)
        for channel in sorted(load_topology().channels, key=lambda c: c.id):
            if channel.account == account.id:
                found.extend(intervals.gaps(conn, channel.id, channel.orders.schedule, periods))
    return current, found


def _listed(gaps: list[Any]) -> str:
    shown = "; ".join(g.describe() for g in gaps[:LISTED])
    return f"{len(gaps)} order interval(s): {shown}" + (" ..." if len(gaps) > LISTED else "")


def _authorization_problem(account: Account, seller_id: str, country: str) -> str | None:
    """Why the stored authorization of a previous seller cannot read its hours (None: it works)."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.hooks.sp_api import seller_gateway
    from mip.amazon import apis

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


def _record_blocked(gaps: list[Any], advice: str) -> None:
    """The runs that tried a blocked previous seller's hours stay failed, with the recovery as their error."""
    from mip.airflow.db import mip_db
    from mip.orders import intervals

    with mip_db() as conn:
        for gap in gaps:
            if gap.run_id:
                intervals.record_failure(conn, gap.channel_id, gap.run_id, advice)


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
    from mip.config import load_topology
    from mip.orders import intervals
    from mip.orders.sellers import recovery_advice

    topology = load_topology()
    account = topology.account(account_id)
    country = next(c.country for c in sorted(topology.channels, key=lambda c: c.id) if c.account == account_id)
    current, found = _account_gaps(account)
    runnable = [g for g in found if g.seller_id == current]
    for seller in sorted({g.seller_id for g in found} - {current}):
        own = [g for g in found if g.seller_id == seller]
        problem = _authorization_problem(account, seller, country)
        if problem is None:
            log.info("previous Seller ID %s: its stored authorization works, re-running %s gap(s)", seller, len(own))
            runnable += own
            continue
        advice = recovery_advice(account_id, seller, current, _listed(own))
        log.warning("%s. Its stored authorization: %s", advice, problem)
        _record_blocked(own, advice)
    triggers = [_trigger(g) for g in intervals.repair_plan(runnable, MAX_NEW_RUN_WINDOW, MAX_IN_PLACE_RERUNS)]
    log.info("%s run(s) to repair for account %s", len(triggers), account_id)
    return triggers


@task(task_id="verify", trigger_rule="all_done", retries=1)
def verify(account_id: str) -> dict[str, Any]:
    """Fail, naming them, while any order interval of the account is not imported by the seller owning it."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.config import load_topology
    from mip.orders.sellers import recovery_advice

    current, remaining = _account_gaps(load_topology().account(account_id))
    if not remaining:
        log.info("every order interval of account %s since its channels' first run is imported", account_id)
        return {"remaining": 0}
    problems = []
    own = [g for g in remaining if g.seller_id == current]
    if own:
        problems.append(
            f"{_listed(own)} of account {account_id} (Seller ID {current}) are still not imported. See the failed "
            "mip_orders__<channel> runs (mip.order_intervals.error); once fixed, re-run this DAG"
        )
    for seller in sorted({g.seller_id for g in remaining} - {current}):
        problems.append(
            recovery_advice(account_id, seller, current, _listed([g for g in remaining if g.seller_id == seller]))
        )
    raise AirflowFailException(" | ".join(problems))


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
