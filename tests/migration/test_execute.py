"""Executing an approved plan without Airflow, against the sandbox: partial acceptance reported per SKU and
retried by approving again (only the failed SKUs are sent), a retried submit never sends twice."""

from __future__ import annotations

import time

from mip.amazon.feeds import DONE_STATUSES
from mip.config import load_topology
from mip.migration import execute
from mip.migration.approve import approve
from mip.migration.plan import PlanContext
from tests.migration.conftest import (
    DEMO,
    expected_planned,
    expected_references,
    plan_from_report,
    publish_mip_copies,
    sandbox_listings,
    stage_report,
)


def feeds(sandbox) -> list[dict]:
    return sandbox.admin("GET", "feeds", params={"seller_id": DEMO, "documents": "0"})


def execute_once(db, gateway, sandbox, run: execute.Execution) -> execute.FinishOutcome:
    execute.submit(db, gateway, run)
    assert execute.submit(db, gateway, run)["sent"] == 0, "a retried submit sends nothing again"
    for _ in range(200):
        sandbox.tick()
        if all(s in DONE_STATUSES for s in execute.poll_feeds(db, gateway, run).values()):
            break
        time.sleep(0.1)
    execute.apply(db, gateway, run)
    execute.verify(db, gateway, run)
    return execute.finish(db, run, approved_by="ops@example")


def test_partial_acceptance_is_reported_per_sku_and_finished_by_approving_again(
    migration_sandbox, make_gateway, clean_migration
):
    db, sandbox = clean_migration, migration_sandbox
    gateway = make_gateway(sandbox)
    topology = load_topology()
    channel = topology.channel("de")
    publish_mip_copies(sandbox, db, "DE", expected_references("DE"))  # MIP's copies are live: deleting is safe
    before = sandbox_listings(sandbox, "DE")
    plan_id = plan_from_report(db, gateway, "de", "partial-plan").plan_id
    planned = expected_planned("DE")

    def approved(run_id: str) -> execute.Execution:
        context = PlanContext(channel, topology.account_of(channel), run_id, "test_migration", "ops@example")
        stage_report(db, gateway, "de", run_id)  # the approving run's fresh listings
        approve(db, context, plan_id, max_delete_fraction=0.2)
        return execute.Execution(channel, topology.account_of(channel), plan_id, run_id, "test_migration")

    sandbox.set_faults(partial_acceptance=0.4)
    try:
        first = execute_once(db, gateway, sandbox, approved("partial-1"))
    finally:
        sandbox.reset_faults()
    assert first.status == "partial" and first.failed and first.deleted_this_run
    assert set(first.failed) | set(first.deleted_this_run) == planned
    assert all(issues[0]["code"] == "4000003" and issues[0]["severity"] == "ERROR" for issues in first.failed.values())
    assert "could not be deleted" in first.message(plan_id, "de") and "approve_plan_id = " + plan_id in first.message(
        plan_id, "de"
    )
    after_first = sandbox_listings(sandbox, "DE")
    assert set(before) - set(after_first) == set(first.deleted_this_run)

    sent_before = len(feeds(sandbox))
    second = execute_once(db, gateway, sandbox, approved("partial-2"))
    assert second.status == "completed" and not second.failed
    assert set(second.deleted_this_run) == set(first.failed), "the second run sends exactly the failed SKUs"
    retry_feeds = feeds(sandbox)[sent_before:]
    assert len(retry_feeds) == 1 and retry_feeds[0]["messages"] == len(first.failed)
    assert set(before) - set(sandbox_listings(sandbox, "DE")) == planned
