"""The deleting steps of ``mip_migrate_csv__<channel>`` (after ``approve_plan``), each
``step(key, conn, [gateway], params=..., user=...)`` (``mip.runs``); they skip in a dry run. The waits
(``wait_feeds``, ``verify_deleted``) answer "done?" and run as reschedule-mode sensors. The code of
``mip.migration.execute`` is imported when a step runs (the DAG file imports this module at parse time).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mip.migration.steps import RunParams, execution
from mip.runs import RunKey, StepFailed, StepSkipped

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway

log = logging.getLogger(__name__)


def submit_deletes(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, **params: Any) -> dict[str, int]:
    """DELETE messages in JSON_LISTINGS_FEED documents, each recorded before it is sent (never twice)."""
    from mip.migration.execute import submit

    run = execution(key, **params)
    counts = submit(conn, gateway, run)
    log.info(
        "plan %s: %s listings to delete in %s feed document(s); %s submission(s) sent",
        run.plan_id,
        f"{counts['to_delete']:,}",
        counts["documents"],
        counts["sent"],
    )
    return counts


def wait_feeds(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, **params: Any) -> bool:
    """One getFeed per DELETE feed of the plan still processing: are they all processed?"""
    from mip.amazon.feeds import DONE_STATUSES
    from mip.migration.execute import poll_feeds

    run = execution(key, **params)
    statuses = poll_feeds(conn, gateway, run)
    log.info("feeds of plan %s: %s", run.plan_id, statuses or "none waiting")
    return all(status in DONE_STATUSES for status in statuses.values())


def apply_results(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, **params: Any) -> dict[str, Any]:
    """The processing reports per SKU: deleted, or failed with Amazon's issues."""
    from mip.migration.execute import apply

    run = execution(key, **params)
    result = apply(conn, gateway, run)
    log.info("plan %s: %s deletions accepted, %s failed", run.plan_id, f"{result['deleted']:,}", len(result["failed"]))
    for sku, issues in list(result["failed"].items())[:20]:
        log.info("  %s: %s", sku, [(i.get("code"), i.get("message")) for i in issues[:2]])
    return {"deleted": result["deleted"], "failed": len(result["failed"])}


def verify_deleted(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, **params: Any) -> bool:
    """getListingsItem for every accepted deletion: does each answer 404 (the listing is gone)?"""
    from mip.migration.execute import verify

    run = execution(key, **params)
    counts = verify(conn, gateway, run)
    log.info(
        "plan %s: %s of %s deletions verified, %s still listed",
        run.plan_id,
        f"{counts['verified']:,}",
        f"{counts['checked']:,}",
        f"{counts['still_listed']:,}",
    )
    return counts["still_listed"] == 0


def finish(key: RunKey, conn: psycopg.Connection, *, params: dict[str, Any], user: str | None = None) -> dict:
    """The verdict: audit what this run deleted; fail when anything is left (re-run to retry it)."""
    from mip.migration import audit
    from mip.migration.execute import finish as conclude

    run = RunParams.parse(params, user)
    if run.approve_plan_id is None:
        raise StepSkipped("planning run: nothing to execute")
    decision = audit.last_action(conn, run.approve_plan_id, key.run_id)
    # the failed task before finish alerted already
    if decision is None:
        raise StepFailed(
            f"the run stopped before approve_plan checked plan {run.approve_plan_id}: nothing was deleted; "
            "see the failed task",
            alerted_upstream=True,
        )
    if decision["action"] == "refused":
        raise StepFailed(f"plan {run.approve_plan_id} refused: {decision['message']}", alerted_upstream=True)
    if decision["action"] == "checked":
        raise StepSkipped(f"dry run: {decision['message']}")
    plan = execution(key, params, user)
    outcome = conclude(conn, plan, approved_by=decision["actor"])
    message = outcome.message(plan.plan_id, key.channel_id)
    log.info("%s", message)
    if not outcome.settled:
        conn.commit()  # what this run deleted stays audited
        raise StepFailed(message)
    return {"plan_id": plan.plan_id, "status": outcome.status, "deleted": len(outcome.deleted_this_run)}
