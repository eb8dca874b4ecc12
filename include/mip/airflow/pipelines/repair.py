"""``mip_repair__<account>``: after a credential reset, re-run the order imports the outage broke.

Scheduled on the account's credentials Asset (``mip://accounts/<account>/credentials``, emitted by
``mip credentials reset`` and the Marketplaces page). ``find_gaps`` reads ``mip.order_intervals``
(MIP's own record, not Airflow's metadata database) for every channel of the account and lists the
schedule's intervals since ``lookback_days`` that were not imported; ``rerun`` (a
TriggerDagRunOperator mapped over them, deferrable) re-runs each:

- a gap a run tried (failed, e.g. with the revoked token) is re-run *in place*: the trigger names
  that run's id, Airflow answers that it exists and, with ``reset_dag_run=True``, clears it, so the
  red run turns green with its original data interval;
- adjacent gaps no run tried (the DAG was paused, or a run never started) become one new run
  ``repair__<start>__<end>`` whose ``conf`` carries ``window_start``/``window_end`` (a window
  with many orders goes through the orders report: mip.orders.cost).

``verify`` then looks again and fails, naming them, if gaps remain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from mip.airflow.common import DEFAULT_ARGS, START_DATE
from mip.config import Account, Topology

LOOKBACK_DAYS = 7
MAX_NEW_RUN_WINDOW = timedelta(days=31)
WAIT_POKE_SECONDS = 30


def _gaps(account_id: str, lookback_days: float) -> list[Any]:
    from datetime import UTC, datetime

    from mip.airflow.db import mip_db
    from mip.config import load_topology
    from mip.orders import intervals

    topology = load_topology()
    since = datetime.now(UTC) - timedelta(days=lookback_days)
    found = []
    with mip_db() as conn:
        for channel in sorted(topology.channels, key=lambda c: c.id):
            if channel.account == account_id:
                found.extend(intervals.gaps(conn, channel.id, channel.orders.schedule, since))
    return found


@task(task_id="find_gaps")
def find_gaps(account_id: str) -> list[dict[str, Any]]:
    """The order intervals of the account's channels not imported since the lookback -> trigger kwargs."""
    from airflow.sdk import get_current_context

    from mip.airflow.factories import dag_id
    from mip.orders import intervals

    lookback = float(get_current_context()["params"]["lookback_days"])
    plan = intervals.repair_plan(_gaps(account_id, lookback), MAX_NEW_RUN_WINDOW)
    triggers = []
    for gap in plan:
        if gap.run_id:
            print(
                f"{gap.channel_id}: [{gap.start.isoformat()}, {gap.end.isoformat()}) {gap.status} in run "
                f"{gap.run_id}: clearing it"
            )
            triggers.append(
                {
                    "trigger_dag_id": dag_id("orders", gap.channel_id),
                    "trigger_run_id": gap.run_id,
                    "logical_date": gap.logical_date.isoformat() if gap.logical_date else None,
                    "conf": {},
                }
            )
        else:
            run_id = f"repair__{gap.start:%Y-%m-%dT%H:%M}__{gap.end:%Y-%m-%dT%H:%M}"
            print(
                f"{gap.channel_id}: [{gap.start.isoformat()}, {gap.end.isoformat()}) never imported: new run {run_id}"
            )
            triggers.append(
                {
                    "trigger_dag_id": dag_id("orders", gap.channel_id),
                    "trigger_run_id": run_id,
                    "logical_date": None,
                    "conf": {"window_start": gap.start.isoformat(), "window_end": gap.end.isoformat()},
                }
            )
    print(f"{len(triggers)} run(s) to repair for account {account_id}")
    return triggers


@task(task_id="verify", trigger_rule="all_done", retries=1)
def verify(account_id: str) -> dict[str, Any]:
    """Fail, naming them, when intervals are still not imported after the re-runs."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    lookback = float(get_current_context()["params"]["lookback_days"])
    remaining = _gaps(account_id, lookback)
    if remaining:
        listed = "; ".join(f"{g.channel_id} [{g.start.isoformat()}, {g.end.isoformat()})" for g in remaining[:20])
        raise AirflowFailException(
            f"{len(remaining)} order interval(s) of account {account_id} are still not imported: {listed}. "
            "See the failed mip_orders__<channel> runs (mip.order_intervals.error); once fixed, re-run this DAG"
        )
    print(f"every order interval of account {account_id} since the lookback is imported")
    return {"remaining": 0}


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
        doc_md=(
            f"### Repair after a credential reset — account `{account.id}`\n\n"
            f"Runs when the credentials of `{account.id}` are reset (Asset "
            f"`mip://accounts/{account.id}/credentials`) or by hand. Finds, in `mip.order_intervals`, the "
            f"order intervals of channels {', '.join(f'`{c}`' for c in channels)} not imported since "
            "`lookback_days` and re-runs them: failed runs are cleared and run again in place (they turn "
            "green), intervals no run tried get a new run with `window_start`/`window_end`. `verify` fails "
            "if gaps remain."
        ),
        params={
            "lookback_days": Param(
                LOOKBACK_DAYS,
                type="number",
                minimum=0,
                description="How far back to look for intervals that were not imported.",
            ),
        },
    ) as dag:
        triggers = find_gaps(account.id)
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
