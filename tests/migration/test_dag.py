"""mip_migrate_csv__<channel> through dag.test() against a sandbox of this module's own (demo state with the
CSV-era listings), the demo catalog in mip: dry runs, approvals, refusals, FATAL feeds, flat files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dags.conftest import task_states
from tests.migration.conftest import (
    DEMO,
    expected_planned,
    expected_references,
    plan_from_report,
    precision_recall,
    publish_mip_copies,
    sandbox_listings,
    seeded_truth,
    use_connection,
)

IT, DE = "mip_migrate_csv__it", "mip_migrate_csv__de"
SENSORS = ("wait_listings", "wait_feeds", "verify_deleted")
PLANNING = {
    "check_channel": "success",
    "request_listings": "success",
    "wait_listings": "success",
    "stage_listings": "success",
    "gate_listings": "success",
    "choose": "success",
    "make_plan": "success",
    "approve_plan": "skipped",
    "submit_deletes": "skipped",
    "wait_feeds": "skipped",
    "apply_results": "skipped",
    "verify_deleted": "skipped",
    "finish": "skipped",
}
EXECUTING = ("submit_deletes", "wait_feeds", "apply_results", "verify_deleted")
# Every run passes every Param and the defaults are put back after it: in-process dag.test() runs share the
# DAG's Param objects, and Airflow's process_params writes a run's conf into them (Param.resolve sets
# .value), so a value given once would stick to later runs, in other test modules too.
DEFAULTS = {
    "dry_run": True,
    "max_delete_fraction": None,
    "source": "",
    "approve_plan_id": "",
    "max_plan_age_days": 7,
    "actor": "",
}


@pytest.fixture
def migrate(run_dag, dagbag, migration_sandbox, clean_migration, monkeypatch):
    """``migrate(dag_id, **params)`` runs the DAG with dag.test(); returns the DagRun."""
    use_connection(monkeypatch, migration_sandbox)
    for dag_id in (IT, DE):
        for sensor in SENSORS:
            monkeypatch.setattr(dagbag.get_dag(dag_id).get_task(sensor), "poke_interval", 0.3)
            monkeypatch.setattr(dagbag.get_dag(dag_id).get_task(sensor), "exponential_backoff", False)

    def run(dag_id: str, **conf):
        migration_sandbox.admin("POST", "reset-rate-limits")
        params = dagbag.get_dag(dag_id).params
        try:
            dag_run = run_dag(dag_id, conf={**DEFAULTS, **conf})
        finally:  # the session's DagBag is shared: leave its Params as they were
            for name, value in DEFAULTS.items():
                params.get_param(name).value = value
        timings = {
            ti.task_id: round((ti.end_date - ti.start_date).total_seconds(), 2)
            for ti in dag_run.get_task_instances()
            if ti.start_date and ti.end_date
        }
        print(f"{dag_id} {conf}: {(dag_run.end_date - dag_run.start_date).total_seconds():.1f}s {timings}")
        return dag_run

    return run


def plan_of(db, dag_run) -> str:
    return db.execute("SELECT plan_id FROM mip.migration_plan_headers WHERE run_id = %s", (dag_run.run_id,)).fetchone()[
        0
    ]


@pytest.fixture
def made_plan(migration_sandbox, make_gateway, clean_migration):
    """``made_plan(channel_id)``: a plan made from a fresh listings report without Airflow (set-up for approvals)."""

    def make(channel_id: str) -> str:
        gateway = make_gateway(migration_sandbox)
        return plan_from_report(clean_migration, gateway, channel_id, f"set-up-{channel_id}").plan_id

    return make


def statuses(db, plan_id: str) -> dict[str, str]:
    return dict(
        db.execute(
            "SELECT sku, status FROM mip.migration_plans WHERE plan_id = %s AND status <> 'excluded'", (plan_id,)
        ).fetchall()
    )


def audit(db, plan_id: str) -> list[tuple]:
    return db.execute(
        "SELECT action, actor, message, details FROM mip.migration_audit WHERE plan_id = %s ORDER BY at, id", (plan_id,)
    ).fetchall()


def test_the_dag_has_the_params_and_steps(dagbag):
    dag = dagbag.get_dag(IT)
    assert dag.schedule is None
    assert set(dag.params) == {
        "dry_run",
        "max_delete_fraction",
        "source",
        "approve_plan_id",
        "max_plan_age_days",
        "actor",
    }
    assert dag.params["dry_run"] is True and dag.params["max_delete_fraction"] is None and dag.params["source"] == ""
    assert all(dag.params.get_param(name).description for name in dag.params)
    assert [t.task_id for t in dag.topological_sort()][:2] == ["check_channel", "request_listings"]
    assert set(dag.task_ids) == set(PLANNING)
    assert dag.get_task("wait_listings").mode == "reschedule" and dag.get_task("wait_feeds").mode == "reschedule"
    assert dag.get_task("submit_deletes").pool == "sp_api__demo"
    assert "mip_migrate_csv__fr" not in dagbag.dag_ids, "international channels are not migrated"


def test_a_dry_run_writes_the_plan_and_deletes_nothing(migrate, migration_sandbox, db):
    before = sandbox_listings(migration_sandbox, "IT")
    dag_run = migrate(IT)
    assert str(dag_run.state) == "success", task_states(dag_run)
    assert task_states(dag_run) == PLANNING
    plan_id = plan_of(db, dag_run)
    planned = {s for s, st in statuses(db, plan_id).items() if st in ("planned", "waiting")}
    assert planned == expected_planned("IT")
    text = db.execute("SELECT summary_text FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)).fetchone()[
        0
    ]
    assert f"Planned for deletion: {len(planned)} listings" in text and f'"approve_plan_id": "{plan_id}"' in text
    assert [a[:2] for a in audit(db, plan_id)] == [("planned", "dag_test")]

    # approving it in a dry run checks it against fresh listings, and still deletes nothing
    checked = migrate(IT, approve_plan_id=plan_id)
    states = task_states(checked)
    assert str(checked.state) == "success", states
    assert states["approve_plan"] == "success" and states["make_plan"] == "skipped"
    assert all(states[t] == "skipped" for t in (*EXECUTING, "finish"))
    assert [a[0] for a in audit(db, plan_id)] == ["planned", "checked"]
    assert sandbox_listings(migration_sandbox, "IT") == before
    assert db.execute("SELECT count(*) FROM mip.feed_submissions WHERE dag_id = %s", (IT,)).fetchone()[0] == 0


def test_deleting_needs_a_plan_to_approve():
    from mip.migration.steps import RunParams
    from mip.runs import StepFailed

    with pytest.raises(StepFailed, match="dry_run is false but no approve_plan_id is given") as refused:
        RunParams.parse({"dry_run": False, "approve_plan_id": " "})
    assert "trigger with dry_run = true to make a plan" in refused.value.fix
    params = RunParams.parse({"dry_run": False, "approve_plan_id": "it-1234abcd", "actor": "ops"})
    assert (params.approve_plan_id, params.actor, params.from_report) == ("it-1234abcd", "ops", True)


def test_the_fraction_gate_refuses_a_plan_and_its_approval_and_both_are_alerted(migrate, migration_sandbox, db, alerts):
    before = sandbox_listings(migration_sandbox, "DE")
    dag_run = migrate(DE, max_delete_fraction=0.1)
    assert task_states(dag_run)["make_plan"] == "failed" and str(dag_run.state) == "failed"
    plan_id = plan_of(db, dag_run)
    status, refusal, planned = db.execute(
        "SELECT status, refusal, planned FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)
    ).fetchone()
    assert status == "refused" and planned == len(expected_planned("DE"))
    assert "more than max_delete_fraction (10%)" in refusal
    [mail] = alerts.mails
    assert mail.subject == f"[MIP] {DE} failed: channel de (account demo), plan {plan_id}"
    assert f"\nMigration plan: {plan_id}\nError: plan {plan_id} refused: the plan deletes " in mail.text
    assert "\nFix: nothing was deleted. Read the reason above and the plan" in mail.text
    assert [(p.body["plan_id"], p.body["task_id"]) for p in alerts.posts] == [(plan_id, "make_plan")]

    approved = migrate(DE, approve_plan_id=plan_id, dry_run=False, max_delete_fraction=0.5)
    states = task_states(approved)
    assert states["approve_plan"] == "failed" and states["finish"] == "failed" and states["submit_deletes"] != "success"
    assert audit(db, plan_id)[-1][0] == "refused" and "was refused when it was made" in audit(db, plan_id)[-1][2]
    assert sandbox_listings(migration_sandbox, "DE") == before
    # one alert for the refused approval: finish fails too, for the same reason, and does not alert it again
    assert len(alerts.mails) == 2 and f"Error: plan {plan_id} was refused when it was made" in alerts.mails[1].text
    assert [(p.body["plan_id"], p.body["task_id"]) for p in alerts.posts][1:] == [(plan_id, "approve_plan")]


def test_a_stale_plan_is_refused(migrate, made_plan, migration_sandbox, db):
    plan_id = made_plan("de")
    # too old
    db.execute(
        "UPDATE mip.migration_plan_headers SET created_at = created_at - interval '8 days' WHERE plan_id = %s",
        (plan_id,),
    )
    db.commit()
    old = migrate(DE, approve_plan_id=plan_id, dry_run=False)
    assert task_states(old)["approve_plan"] == "failed" and str(old.state) == "failed"
    assert "is stale: made 8 days ago, more than max_plan_age_days (7)" in audit(db, plan_id)[-1][2]
    db.execute("UPDATE mip.migration_plan_headers SET created_at = now() WHERE plan_id = %s", (plan_id,))
    db.commit()
    # a planned listing changed since (the seller retitled it)
    changed = sorted(s for s, st in statuses(db, plan_id).items() if st in ("planned", "waiting"))[0]
    listing = sandbox_listings(migration_sandbox, "DE")[changed]
    retitled = {
        "sku": changed,
        "item_name": listing["item_name"] + " NEU",
        "brand": listing["brand"],
        "price": "10.00",
        "quantity": 1,
        **(
            {"gtin": listing["gtin"], "gtin_type": listing["gtin_type"]}
            if listing["gtin"]
            else {"asin": listing["asin"]}
        ),
    }
    migration_sandbox.admin("POST", "listings/seed", json={"seller_id": DEMO, "country": "DE", "listings": [retitled]})
    before = sandbox_listings(migration_sandbox, "DE")
    stale = migrate(DE, approve_plan_id=plan_id, dry_run=False)
    assert task_states(stale)["approve_plan"] == "failed"
    action, _, message, details = audit(db, plan_id)[-1]
    assert action == "refused" and "the listings changed since it was made" in message and changed in message
    assert details["changed"] == [changed]
    assert sandbox_listings(migration_sandbox, "DE") == before, "a refused plan deletes nothing"


def test_an_approved_plan_deletes_exactly_the_plan_and_a_fatal_feed_is_retried(
    migrate, made_plan, migration_sandbox, db
):
    sandbox = migration_sandbox
    publish_mip_copies(sandbox, db, "IT", expected_references("IT"))  # MIP's copies are live: deleting is safe
    before = sandbox_listings(sandbox, "IT")
    plan_id = made_plan("it")
    planned = {s for s, st in statuses(db, plan_id).items() if st == "planned"}
    assert planned == expected_planned("IT") and planned <= set(before)

    sandbox.set_faults(fatal_feeds=1)
    try:
        fatal = migrate(IT, approve_plan_id=plan_id, dry_run=False)
    finally:
        sandbox.reset_faults()
    states = task_states(fatal)
    assert str(fatal.state) == "failed" and states["finish"] == "failed", states
    assert all(states[t] == "success" for t in ("approve_plan", *EXECUTING)), states
    assert set(statuses(db, plan_id).values()) == {"failed"}, "a FATAL feed leaves every SKU failed (retryable)"
    issues = db.execute(
        "SELECT DISTINCT issues -> 0 ->> 'code', issues -> 0 ->> 'message' FROM mip.migration_plans "
        "WHERE plan_id = %s AND status = 'failed'",
        (plan_id,),
    ).fetchall()
    assert (
        len(issues) == 1 and issues[0][0] == "FATAL" and issues[0][1].startswith("4000005: Feed processing was aborted")
    )
    assert sandbox_listings(sandbox, "IT") == before
    assert db.execute("SELECT status FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)).fetchone() == (
        "partial",
    )

    again = migrate(IT, approve_plan_id=plan_id, dry_run=False)
    assert str(again.state) == "success", task_states(again)
    after = sandbox_listings(sandbox, "IT")
    assert set(before) - set(after) == planned and set(after) <= set(before), "exactly the plan is deleted"
    assert set(statuses(db, plan_id).values()) == {"verified"}
    assert db.execute("SELECT status FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)).fetchone() == (
        "completed",
    )
    entries = audit(db, plan_id)
    assert [(a, who) for a, who, _, _ in entries] == [
        ("planned", "tester"),
        ("approved", "dag_test"),
        ("executed", "dag_test"),
        ("approved", "dag_test"),
        ("executed", "dag_test"),
    ]
    assert entries[2][3]["deleted"] == [] and set(entries[2][3]["failed"]) == planned
    assert sorted(entries[4][3]["deleted"]) == sorted(planned) and entries[4][3]["status"] == "completed"
    feeds = db.execute(
        "SELECT count(*), sum(message_count) FROM mip.feed_submissions WHERE dag_id = %s", (IT,)
    ).fetchone()
    assert feeds == (2, 2 * len(planned)), "one DELETE feed per approving run, every planned SKU in each"


def cp1252_listings_file(path: Path, country: str, extra_lines: list[str] = ()) -> Path:
    """The seeded CSV-era listings of ``country`` as the seller's own flat file (Amazon's report columns)."""
    from sandbox.spapi.demo_listings import csv_era_listings

    listings = next(
        rows
        for _, marketplace, rows in csv_era_listings(1)
        if marketplace == {"IT": "APJ6JRA9NG5V4", "DE": "A1PA6795UKMFR9"}[country]
    )
    header = [
        "seller-sku",
        "item-name",
        "price",
        "quantity",
        "asin1",
        "product-id-type",
        "product-id",
        "fulfillment-channel",
        "status",
    ]
    lines = ["\t".join(header)]
    for listing in listings:
        gtin = listing.get("gtin")
        kind, product_id = ("3" if listing.get("gtin_type") == "upc" else "4", gtin) if gtin else ("1", listing["asin"])
        lines.append(
            "\t".join(
                [
                    listing["sku"],
                    listing["item_name"],
                    listing["price"],
                    str(listing["quantity"]),
                    listing.get("asin") or "",
                    kind,
                    product_id,
                    "AMAZON_EU" if listing["fulfillment"] == "AFN" else "DEFAULT",
                    "Active",
                ]
            )
        )
    lines.extend(extra_lines)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_a_latin1_flat_file_is_read_and_planned(migrate, db, imports_dir):
    accented = [t for t in seeded_truth() if t.country == "DE" and t.kind == "brand_title"]
    file = cp1252_listings_file(
        imports_dir / "Bestandsbericht.txt", "DE", extra_lines=["SHORT-ROW\tKaffeemühle"]
    )  # a row with missing fields
    dag_run = migrate(DE, source=str(file))
    assert str(dag_run.state) == "success", task_states(dag_run)
    plan_id = plan_of(db, dag_run)
    planned = {s for s, st in statuses(db, plan_id).items() if st in ("planned", "waiting")}
    precision, recall = precision_recall(planned, expected_planned("DE"))
    print(f"\nde from a cp1252 flat file: {len(planned)} planned; precision {precision:.3f}, recall {recall:.3f}")
    assert (precision, recall) == (1.0, 1.0)
    encoding, rows, rejected = db.execute(
        "SELECT encoding, rows, rejected FROM mip.migration_inputs WHERE run_id = %s", (dag_run.run_id,)
    ).fetchone()
    assert (encoding, rows, rejected) == ("cp1252", 333, 1)
    titles = dict(
        db.execute(
            "SELECT sku, item_name FROM mip.migration_listings WHERE run_id = %s AND sku = ANY(%s)",
            (dag_run.run_id, [t.sku for t in accented]),
        ).fetchall()
    )
    umlauts = [t for t in titles.values() if any(c in t for c in "äöüßÄÖÜ")]
    assert umlauts, f"no accented title among {titles}"
    line, field, rule = db.execute(
        "SELECT line, field, rule FROM mip.rejected_rows WHERE run_id = %s AND source = 'migrate_csv:de:read'",
        (dag_run.run_id,),
    ).fetchone()
    assert (line, field, rule) == (334, "price", "column_count")


def test_a_broken_file_fails_naming_the_line_and_column(migrate, imports_dir, capfd):
    file = imports_dir / "broken.txt"
    file.write_bytes(
        "seller-sku\titem-name\tfulfillment-channel\nA-1\tTè verde\tDEFAULT\nA-2\t".encode()
        + "Caffè".encode("latin-1")
        + b"\tDEFAULT\n"
    )
    dag_run = migrate(IT, source=str(file))
    states = task_states(dag_run)
    assert states["stage_listings"] == "failed" and states["make_plan"] != "success"
    output = capfd.readouterr()
    assert f"{file}: line 3, column 9 (field item-name): byte 0xE8 is not valid UTF-8" in output.out + output.err


def test_following_the_plans_next_line_literally_approves_it(migrate, migration_sandbox, db, imports_dir):
    """A plan made from the seller's file: an approval without ``source`` reads the same file (not Amazon's
    report, where every listing the file lacks would look changed), and the conf of the plan's "Next:" line,
    copied as it is, deletes exactly the plan."""
    import json

    publish_mip_copies(migration_sandbox, db, "DE", expected_references("DE"))
    file = cp1252_listings_file(imports_dir / "Angebote.txt", "DE")
    planning = migrate(DE, source=str(file), max_delete_fraction=0.3)
    assert str(planning.state) == "success", task_states(planning)
    plan_id = plan_of(db, planning)
    assert set(statuses(db, plan_id).values()) == {"planned"}, "MIP's copies are live (searchListingsItems)"
    text = db.execute("SELECT summary_text FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)).fetchone()
    next_line = next(line for line in text[0].splitlines() if line.startswith("Next:"))
    conf = json.loads(next_line[next_line.index("{") :])
    assert conf == {"approve_plan_id": plan_id, "dry_run": False, "source": str(file), "max_delete_fraction": 0.3}

    checked = migrate(DE, approve_plan_id=plan_id)  # no source, no threshold: the plan's own
    assert task_states(checked)["approve_plan"] == "success", audit(db, plan_id)[-1]
    assert db.execute(
        "SELECT source, path FROM mip.migration_inputs WHERE run_id = %s", (checked.run_id,)
    ).fetchone() == ("file", str(file))
    assert audit(db, plan_id)[-1][3]["max_delete_fraction"] == 0.3

    before = sandbox_listings(migration_sandbox, "DE")
    approved = migrate(DE, **conf)
    assert str(approved.state) == "success", task_states(approved)
    assert set(before) - set(sandbox_listings(migration_sandbox, "DE")) == expected_planned("DE")
    assert set(statuses(db, plan_id).values()) == {"verified"}


def test_a_cancelled_listings_report_plans_nothing_and_a_fatal_one_fails_at_once(migrate, migration_sandbox, db, capfd):
    """The one meaning of mip.amazon.reports: CANCELLED (Amazon: no listing) is an empty report, so the plan
    deletes nothing; FATAL fails wait_listings on its first try with the fix, and nothing is planned."""
    from mip.amazon.reports import REPORT_FIX

    migration_sandbox.set_faults(cancelled_reports=1)
    empty = migrate(IT)
    assert task_states(empty) == PLANNING, task_states(empty)
    status, rows = db.execute(
        "SELECT report_status, rows FROM mip.migration_inputs WHERE run_id = %s", (empty.run_id,)
    ).fetchone()
    assert (status, rows) == ("CANCELLED", 0)
    planned = db.execute("SELECT planned FROM mip.migration_plan_headers WHERE run_id = %s", (empty.run_id,))
    assert planned.fetchone() == (0,)
    capfd.readouterr()

    migration_sandbox.set_faults(fatal_reports=1)
    fatal = migrate(IT)
    states = task_states(fatal)
    assert states["wait_listings"] == "failed" and states["make_plan"] != "success", states
    waited = next(t for t in fatal.get_task_instances() if t.task_id == "wait_listings")
    assert waited.try_number == 1, "a FATAL report fails at once, not retried"
    assert db.execute(
        "SELECT report_status FROM mip.migration_inputs WHERE run_id = %s", (fatal.run_id,)
    ).fetchone() == ("FATAL",)
    out = capfd.readouterr()
    assert f"(FATAL). Fix: {REPORT_FIX}" in out.out + out.err
