"""``mip_migrate_csv__<channel>``: find CSV-era duplicate listings and delete them once a plan is approved.

check_channel -> request_listings -> wait_listings -> stage_listings -> gate_listings -> choose, then

- without ``approve_plan_id`` (a dry run): make_plan (the plan and its summary, nothing deleted);
- with ``approve_plan_id``: approve_plan (the plan against fresh listings) -> submit_deletes ->
  wait_feeds -> apply_results -> verify_deleted -> finish (the verdict and the audit).

Every step reads and writes tables of ``mip`` keyed by the run (``migration_inputs``,
``migration_listings``, ``migration_plan_headers``, ``migration_plans``, ``feed_submissions``,
``migration_audit``); only small summaries go through XCom. Waits (the listings report, the feeds,
the deletions showing) are reschedule-mode sensors: no worker slot is held between polls. Each task is one
``run_step`` call into ``mip.migration.steps`` (reading, planning) or ``mip.migration.deleting``; a CANCELLED
listings report (Amazon: no data) is an empty one, a FATAL one fails at once with the fix (``mip.amazon.reports``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.airflow.waits import step_sensor
from mip.config import Channel, Topology
from mip.migration import deleting, steps
from mip.migration.steps import DEFAULT_MAX_DELETE_FRACTION

ROLES = ("main",)  # the channel roles mip_migrate_csv__<channel> runs for
# Seconds before a sensor's second poll (reschedule mode: no worker slot held in between); later polls back
# off exponentially up to the MAX_WAITs (a listings report takes Amazon a minute or two, a feed minutes).
POKE_SECONDS = float(os.environ.get("MIP_MIGRATION_POKE_SECONDS", "5"))
VERIFY_POKE_SECONDS = float(os.environ.get("MIP_MIGRATION_VERIFY_POKE_SECONDS", "10"))
MAX_WAIT = timedelta(minutes=2)
VERIFY_MAX_WAIT = timedelta(minutes=5)
REPORT_TIMEOUT = timedelta(hours=6)
FEED_TIMEOUT = timedelta(hours=12)
VERIFY_TIMEOUT = timedelta(hours=2)


def _inputs() -> dict[str, Any]:
    """The run's Params and who triggered it (when Airflow knows): every step reads them."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return {
        "params": dict(context["params"]),
        "user": getattr(context.get("dag_run"), "triggering_user_name", None),
    }


def _reads_amazon(params: dict[str, Any]) -> bool:
    """Does the run read Amazon's listings report? A ``source`` file is read, and refused, with no connection."""
    return str(params.get("source") or "").strip() in ("", "report")


@task(task_id="request_listings")
def request_listings(channel_id: str) -> dict[str, Any]:
    """Check the Params; request the merchant listings report (or check the flat file is readable)."""
    from mip.airflow.adapter import run_step

    inputs = _inputs()
    return run_step(steps.request_listings, channel_id, gateway=_reads_amazon(inputs["params"]), **inputs)


@task(task_id="stage_listings")
def stage_listings(channel_id: str) -> dict[str, Any]:
    """Download the report (or read the file), parse it -> mip.migration_listings; unreadable rows ->
    mip.rejected_rows (line, column)."""
    from mip.airflow.adapter import run_step

    return run_step(steps.stage_listings, channel_id, gateway=_reads_amazon(_inputs()["params"]))


@task(task_id="gate_listings")
def gate_listings(channel_id: str) -> dict[str, Any]:
    """Suite migration_listings (keys, fulfilment, product ids); failing rows are never matched."""
    from mip.airflow.adapter import run_step

    return run_step(steps.gate_listings, channel_id)


@task.branch(task_id="choose")
def choose(channel_id: str) -> str:
    """make_plan without approve_plan_id, approve_plan with it."""
    from mip.airflow.adapter import run_step

    return run_step(steps.choose, channel_id, **_inputs())


@task(task_id="make_plan")
def make_plan(channel_id: str) -> dict[str, Any]:
    """Match the listings against the catalog -> mip.migration_plans; log the summary. Deletes nothing."""
    from mip.airflow.adapter import run_step

    return run_step(steps.make_plan, channel_id, gateway=True, **_inputs())


@task(task_id="approve_plan")
def approve_plan(channel_id: str) -> dict[str, Any]:
    """Check plan approve_plan_id against this run's fresh listings (age, changes, gates); audit the approval."""
    from mip.airflow.adapter import run_step

    return run_step(steps.approve_plan, channel_id, gateway=True, **_inputs())


@task(task_id="submit_deletes")
def submit_deletes(channel_id: str) -> dict[str, int]:
    """DELETE messages in JSON_LISTINGS_FEED documents, each recorded before it is sent (never twice)."""
    from mip.airflow.adapter import run_step

    return run_step(deleting.submit_deletes, channel_id, gateway=True, **_inputs())


@task(task_id="apply_results")
def apply_results(channel_id: str) -> dict[str, Any]:
    """The processing reports per SKU: deleted, or failed with Amazon's issues."""
    from mip.airflow.adapter import run_step

    return run_step(deleting.apply_results, channel_id, gateway=True, **_inputs())


@task(task_id="finish", trigger_rule=TriggerRule.ALL_DONE)
def finish(channel_id: str) -> dict[str, Any]:
    """The verdict: audit what this run deleted; fail when anything is left (re-run to retry it)."""
    from mip.airflow.adapter import run_step

    return run_step(deleting.finish, channel_id, **_inputs())


def _waits() -> dict[str, Any]:
    """The three waits, reschedule-mode sensors backing off exponentially up to their MAX_WAIT."""
    backoff: dict[str, Any] = {"exponential_backoff": True, "inputs": _inputs}
    return {
        "wait_listings": step_sensor(
            steps.wait_listings, task_id="wait_listings", poke_interval=POKE_SECONDS, timeout=REPORT_TIMEOUT,
            max_wait=MAX_WAIT, gateway=lambda given: _reads_amazon(given["params"]), **backoff,
        ),
        "wait_feeds": step_sensor(
            deleting.wait_feeds, task_id="wait_feeds", poke_interval=POKE_SECONDS, timeout=FEED_TIMEOUT,
            max_wait=MAX_WAIT, **backoff,
        ),
        "verify_deleted": step_sensor(
            deleting.verify_deleted, task_id="verify_deleted", poke_interval=VERIFY_POKE_SECONDS,
            timeout=VERIFY_TIMEOUT, max_wait=VERIFY_MAX_WAIT, **backoff,
        ),
    }  # fmt: skip


WAITS = _waits()


def build(topology: Topology, channel: Channel) -> DAG:
    pool = sp_api_pool(topology.account_of(channel).id)
    with channel_dag(
        "migrate_csv",
        topology,
        channel,
        schedule=None,
        title="CSV-to-MIP migration",
        params={
            "dry_run": Param(
                True,
                type="boolean",
                description="Plan only, delete nothing (the default). Deleting "
                "needs dry_run = false and approve_plan_id.",
            ),
            "max_delete_fraction": Param(
                None,
                type=["null", "number"],
                minimum=0,
                maximum=1,
                description="The most a plan may delete, as a share of the marketplace's "
                f"listings (0.2 = 20%); a bigger plan is refused. Empty: {DEFAULT_MAX_DELETE_FRACTION} when "
                "planning, the plan's own when approving.",
            ),
            "source": Param(
                "",
                type="string",
                description="'report' (Amazon's GET_MERCHANT_LISTINGS_ALL_DATA "
                "for this marketplace) or the seller's listings file, a name or path inside the imports directory "
                "(MIP_IMPORTS_DIR, default .local/imports): tab- or comma-separated, Amazon's column names, UTF-8 or "
                "Latin-1/cp1252. Empty: 'report' when planning, what the plan was made from when approving.",
            ),
            "approve_plan_id": Param(
                "",
                type="string",
                description="The plan to execute (printed by a dry run, e.g. it-1a2b3c4d). Empty: make a new plan.",
            ),
            "max_plan_age_days": Param(
                7, type="integer", minimum=1, description="A plan older than this is stale and refused: make a new one."
            ),
            "actor": Param(
                "",
                type="string",
                description="Who approves, recorded in the audit when Airflow does not know the triggering user.",
            ),
        },
    ) as dag:
        requested = request_listings.override(pool=pool)(channel.id)
        waited = WAITS["wait_listings"].override(pool=pool)(channel.id)
        staged = stage_listings.override(pool=pool)(channel.id)
        gated = gate_listings(channel.id)
        chosen = choose(channel.id)
        planned = make_plan(channel.id)
        approved = approve_plan(channel.id)
        submitted = submit_deletes.override(pool=pool)(channel.id)
        fed = WAITS["wait_feeds"].override(pool=pool)(channel.id)
        applied = apply_results.override(pool=pool)(channel.id)
        verified = WAITS["verify_deleted"].override(pool=pool)(channel.id)
        finished = finish(channel.id)
        check_channel(channel.id) >> requested >> waited >> staged >> gated >> chosen
        chosen >> [planned, approved]
        approved >> submitted >> fed >> applied >> verified >> finished
    return dag
