"""Never a product without an offer: a CSV-era copy is deleted only once MIP's own listing of the same
product is live on Amazon (the listings report says Active), otherwise its row waits with the reason and
a later approval deletes it (against a sandbox of this module's own, without Airflow)."""

from __future__ import annotations

from mip.config import load_topology
from mip.migration import execute
from mip.migration.approve import approve
from mip.migration.plan import PlanContext
from tests.migration.conftest import (
    expected_planned,
    plan_from_report,
    publish_mip_copies,
    sandbox_listings,
    seeded_truth,
    stage_report,
)
from tests.migration.test_execute import execute_once


def rows(db, plan_id: str) -> dict[str, tuple[str, str | None]]:
    found = db.execute(
        "SELECT sku, status, waiting_because FROM mip.migration_plans WHERE plan_id = %s AND status <> 'excluded'",
        (plan_id,),
    ).fetchall()
    return {sku: (status, because) for sku, status, because in found}


def test_a_copy_waits_until_mips_listing_is_live_and_a_later_approval_deletes_it(
    migration_sandbox, make_gateway, clean_migration
):
    db, sandbox = clean_migration, migration_sandbox
    gateway = make_gateway(sandbox)
    topology = load_topology()
    channel = topology.channel("it")
    truth = {t.sku: t for t in seeded_truth() if t.country == "IT"}
    expected = sorted(expected_planned("IT"))
    live_now = {truth[s].reference for s in expected[: len(expected) // 2]}
    not_buyable = truth[expected[-1]].reference
    publish_mip_copies(sandbox, db, "IT", live_now)
    publish_mip_copies(sandbox, db, "IT", {not_buyable}, buyable=False)  # listed without stock
    before = sandbox_listings(sandbox, "IT")

    outcome = plan_from_report(db, gateway, "it", "waiting-plan")
    plan_id = outcome.plan_id
    planned = rows(db, plan_id)
    assert set(planned) == set(expected)
    deletable = {s for s in expected if truth[s].reference in live_now}
    assert {s for s, (status, _) in planned.items() if status == "planned"} == deletable
    assert planned[expected[-1]] == ("waiting", "mip_not_buyable")
    waiting = len(expected) - len(deletable)
    assert outcome.summary["waiting"] == {"mip_not_buyable": 1, "mip_not_listed": waiting - 1}
    assert "mip_not_listed" in outcome.text and "mip_not_buyable" in outcome.text

    def approved(run_id: str) -> execute.Execution:
        context = PlanContext(channel, topology.account_of(channel), run_id, "test_migration", "ops@example")
        stage_report(db, gateway, "it", run_id)
        approve(db, context, plan_id)  # the plan's own max_delete_fraction
        return execute.Execution(channel, topology.account_of(channel), plan_id, run_id, "test_migration")

    first = execute_once(db, gateway, sandbox, approved("waiting-1"))
    assert first.status == "partial" and first.settled and set(first.deleted_this_run) == deletable
    assert f"{waiting} wait for MIP's own listing" in first.message(plan_id, "it")
    assert set(before) - set(sandbox_listings(sandbox, "IT")) == deletable, "only copies of live products go"
    assert {status for s, (status, _) in rows(db, plan_id).items() if s not in deletable} == {"waiting"}

    # mip_publish has published the rest (and restocked the one without stock): the next approval deletes them
    publish_mip_copies(sandbox, db, "IT", {truth[s].reference for s in expected} - live_now)
    second = execute_once(db, gateway, sandbox, approved("waiting-2"))
    assert second.status == "completed" and set(second.deleted_this_run) == set(expected) - deletable
    assert set(before) - set(sandbox_listings(sandbox, "IT")) == set(expected)
