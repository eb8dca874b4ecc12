"""mip_verify_international__<channel> through dag.test() against a sandbox of this package's own: BIL on
(FR) finds the copies after the delay, BIL off (ES) reports them missing with the cause and the fix, recent
offers are "not copied yet", a minority missing only warns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.dags.conftest import task_states
from tests.international.conftest import DEMO, accept, listings, publish, set_bil, use_connection, wait_copies

FR, ES = "mip_verify_international__fr", "mip_verify_international__es"
STEPS = ["check_channel", "request_listings", "wait_listings", "compare", "verdict"]
# Every run passes every Param: dag.test() runs share the DAG's Param objects (see tests/migration/test_dag.py).
DEFAULTS = {"copy_delay_hours": 24, "fail_missing_percent": 50, "exchange_rate": None}


@pytest.fixture
def verify(run_dag, dagbag, bil_sandbox, fresh, monkeypatch):
    """``verify(dag_id, **params)`` runs the DAG with dag.test(); returns the DagRun."""
    use_connection(monkeypatch, bil_sandbox)
    for dag_id in (FR, ES):
        monkeypatch.setattr(dagbag.get_dag(dag_id).get_task("wait_listings"), "poke_interval", 0.3)

    def run(dag_id: str, **params):
        bil_sandbox.admin("POST", "reset-rate-limits")
        dag_run = run_dag(dag_id, conf={**DEFAULTS, **params})
        timings = {
            ti.task_id: round((ti.end_date - ti.start_date).total_seconds(), 2)
            for ti in dag_run.get_task_instances()
            if ti.start_date and ti.end_date
        }
        print(f"{dag_id} {params}: {(dag_run.end_date - dag_run.start_date).total_seconds():.1f}s {timings}")
        return dag_run

    return run


def run_row(db, dag_run) -> dict:
    from mip.international.store import run_of

    return run_of(db, dag_run.dag_id.rsplit("__", 1)[1], dag_run.run_id)


def offers(db, dag_run) -> dict[str, tuple]:
    rows = db.execute(
        "SELECT sku, status, cause, local_price, price_ratio FROM mip.international_offers WHERE run_id = %s",
        (dag_run.run_id,),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_the_dag_runs_per_international_channel_with_its_steps(dagbag):
    assert {d for d in dagbag.dag_ids if d.startswith("mip_verify_international__")} == {FR, ES}
    dag = dagbag.get_dag(FR)
    assert [t.task_id for t in dag.topological_sort()] == STEPS
    assert dag.get_task("wait_listings").mode == "reschedule"
    assert {dag.get_task(t).pool for t in ("request_listings", "wait_listings", "compare")} == {"sp_api__demo"}
    assert set(dag.params) == set(DEFAULTS) and dag.params["copy_delay_hours"] == 24
    assert all(dag.params.get_param(name).description for name in dag.params)


def test_with_bil_on_the_copies_are_found_after_the_delay(verify, bil_sandbox, db):
    skus = publish(bil_sandbox, db, [f"MIP-ON{n}" for n in range(6)], price="24.90")
    wait_copies(bil_sandbox, skus, "FR")
    dag_run = verify(FR)
    assert str(dag_run.state) == "success", task_states(dag_run)
    run = run_row(db, dag_run)
    assert (run["status"], run["expected"], run["present"], run["missing"]) == ("ok", 6, 6, 0)
    assert (run["priced"], run["median_ratio"], run["exchange_rate"]) == (6, Decimal("1.0000"), Decimal(1))
    assert offers(db, dag_run) == {sku: ("present", None, Decimal("24.90"), Decimal("1.0000")) for sku in skus}
    assert "Reading: copies in FR sell at IT's prices" in run["summary"]
    # the report was asked of the FR marketplace, with the FR channel's account
    report = next(r for r in bil_sandbox.admin("GET", "reports") if r["reportId"] == run["report_id"])
    assert (report["sellerId"], report["marketplaceIds"]) == (DEMO, ["A13V1IB3VIYZZH"])


def test_with_bil_off_the_offers_are_missing_not_configured_and_the_run_fails(verify, bil_sandbox, db, capfd):
    skus = publish(bil_sandbox, db, [f"MIP-OFF{n}" for n in range(5)])
    wait_copies(bil_sandbox, skus, "FR")  # the delay has passed: FR (on) has them, ES (off) never will
    assert not set(skus) & set(listings(bil_sandbox, "ES"))
    dag_run = verify(ES)
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed" and states["compare"] == "success" and states["verdict"] == "failed"
    verdict = next(t for t in dag_run.get_task_instances() if t.task_id == "verdict")
    assert verdict.try_number == 1, "a configuration problem must fail at once, not retry"
    run = run_row(db, dag_run)
    assert (run["status"], run["present"], run["bil_not_configured"], run["not_copied_yet"]) == ("failed", 0, 5, 0)
    assert set(offers(db, dag_run).values()) == {("missing", "bil_not_configured", None, None)}
    assert (
        "none of the 5 offers accepted on IT more than 24 h ago was copied to ES: Build International Listings "
        "is not configured for IT -> ES"
    ) in run["summary"]
    out = capfd.readouterr()
    assert (
        "offers of IT are not being copied to ES for account 'demo'. Fix: configure Build International "
        "Listings in Seller Central"
    ) in out.out + out.err


def test_recent_offers_are_not_copied_yet_and_a_minority_missing_later_warns(verify, bil_sandbox, db):
    old = publish(bil_sandbox, db, [f"MIP-OLD{n}" for n in range(4)], accepted_hours_ago=72)
    wait_copies(bil_sandbox, old, "FR")
    set_bil(bil_sandbox, "FR", False)
    try:
        new = publish(bil_sandbox, db, [f"MIP-NEW{n}" for n in range(3)], accepted_hours_ago=0)
        first = verify(FR)
        assert str(first.state) == "success", task_states(first)
        run = run_row(db, first)
        assert (run["status"], run["present"], run["not_copied_yet"], run["bil_not_configured"]) == ("ok", 4, 3, 0)
        assert {sku: row[:2] for sku, row in offers(db, first).items() if sku in new} == {
            sku: ("missing", "not_copied_yet") for sku in new
        }

        # a day later (publishing patched them since, moving updated_at): still missing, now due
        accept(db, new, "24.90", accepted_hours_ago=25)
        bil_sandbox.tick()
        later = verify(FR, copy_delay_hours=24)
        assert str(later.state) == "success", task_states(later)
        run = run_row(db, later)
        assert (run["status"], run["present"], run["bil_not_configured"]) == ("warning", 4, 3)
        assert "3 of 7 offers accepted on IT more than 24 h ago are missing in FR (43%, at most 50%" in run["summary"]
        # the first run's "accepted since" carries over when updated_at moves later
        accept(db, new, "25.90", accepted_hours_ago=1)
        again = verify(FR)
        assert run_row(db, again)["bil_not_configured"] == 3
        since = db.execute(
            "SELECT max(main_accepted_since) FROM mip.international_offers WHERE run_id = %s", (again.run_id,)
        ).fetchone()[0]
        assert since < datetime.now(UTC) - timedelta(hours=24)
    finally:
        set_bil(bil_sandbox, "FR", True)


def test_without_accepted_offers_there_is_nothing_to_verify_and_no_report(verify, bil_sandbox, db):
    reports_before = len(bil_sandbox.admin("GET", "reports"))
    dag_run = verify(ES)
    assert str(dag_run.state) == "success", task_states(dag_run)
    run = run_row(db, dag_run)
    assert (run["status"], run["report_id"], run["expected"]) == ("ok", None, 0)
    assert "nothing to verify: no offer is accepted on main channel it" in run["summary"]
    assert len(bil_sandbox.admin("GET", "reports")) == reports_before


def test_a_wrong_exchange_rate_param_fails_before_anything_is_requested(verify, bil_sandbox, db, capfd):
    publish(bil_sandbox, db, ["MIP-RATE1"])
    dag_run = verify(FR, exchange_rate=1.2)
    states = task_states(dag_run)
    assert states["request_listings"] == "failed" and states["compare"] != "success"
    out = capfd.readouterr()
    assert "channel fr: exchange_rate is 1.2 but both channels sell in EUR; leave exchange_rate empty" in (
        out.out + out.err
    )
    assert db.execute("SELECT count(*) FROM mip.international_runs").fetchone()[0] == 0


def test_a_cancelled_listings_report_is_empty_and_a_fatal_one_fails_at_once_with_the_fix(
    verify, bil_sandbox, db, capfd
):
    """The one meaning of mip.amazon.reports: CANCELLED (Amazon: no data) is an empty report, so every offer due
    is missing; FATAL fails wait_listings on its first try with the fix."""
    from mip.amazon.reports import REPORT_FIX

    skus = publish(bil_sandbox, db, [f"MIP-END{n}" for n in range(3)])
    wait_copies(bil_sandbox, skus, "FR")
    bil_sandbox.set_faults(cancelled_reports=1)
    cancelled = verify(FR)
    states = task_states(cancelled)
    assert (states["wait_listings"], states["compare"], states["verdict"]) == ("success", "success", "failed")
    run = run_row(db, cancelled)
    assert (run["report_status"], run["present"], run["missing"]) == ("CANCELLED", 0, 3)
    capfd.readouterr()
    bil_sandbox.set_faults(fatal_reports=1)
    fatal = verify(FR)
    states = task_states(fatal)
    assert states["wait_listings"] == "failed" and states["compare"] != "success", states
    waited = next(t for t in fatal.get_task_instances() if t.task_id == "wait_listings")
    assert waited.try_number == 1, "a FATAL report fails at once, not retried"
    assert run_row(db, fatal)["report_status"] == "FATAL"
    out = capfd.readouterr()
    assert f"(FATAL). Fix: {REPORT_FIX}" in out.out + out.err
