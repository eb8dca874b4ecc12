"""dag.test() of mip_publish__it up to the plan, on a small generated catalog (the demo topology's IT)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from tests.publish.conftest import insert_products, product

DAG_ID = "mip_publish__it"
STEPS = ["check_channel", "select", "gate_offers", "price", "gate_prices", "plan"]


def states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def generated(count: int, seed: int) -> list[dict]:
    """Products of the sandbox's catalog generator, as the catalog ingest stores them."""
    from sandbox.catalog import generate

    rows = []
    for p in generate(count, seed=seed, bad_rows=False).products:
        rows.append(product(
            p.reference, ean=p.ean, brand=p.brand, category_path=p.category,
            names={k: v for k, v in p.names.items() if v}, descriptions={k: v for k, v in p.descriptions.items() if v},
            images=p.images, cost_price=float(p.cost_price), retail_price=float(p.retail_price),
            vat_class=p.vat_class, stock=int(p.stock),
        ))
    return rows


@pytest.fixture
def catalog(clean):
    rows = generated(300, seed=5)
    rows += [product("BADEAN", ean="8001234567891"), product("NOIMAGE", images=[])]
    insert_products(clean, rows)
    clean.commit()
    return clean


def test_publish_runs_select_gate_price_gate_plan_and_a_rerun_plans_nothing(catalog, run_dag):
    db = catalog
    dag_run = run_dag(DAG_ID, logical_date=datetime(2026, 10, 1, tzinfo=UTC))
    assert str(dag_run.state) == "success", states(dag_run)
    assert states(dag_run) == dict.fromkeys(STEPS, "success")
    run_id = dag_run.run_id

    selected, rejected = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE rejected) FROM mip.stage_offer WHERE channel_id = 'it' "
        "AND run_id = %s", (run_id,)).fetchone()
    priced = db.execute("SELECT count(*) FROM mip.stage_price WHERE run_id = %s AND channel_id = 'it'",
                        (run_id,)).fetchone()[0]
    plan = dict(db.execute("SELECT operation, count(*) FROM mip.stage_plan WHERE run_id = %s AND channel_id = 'it' "
                           "GROUP BY 1", (run_id,)).fetchall())
    assert 200 < selected < 302 and rejected >= 2 and priced == selected - rejected
    assert plan == {"UPDATE": priced}
    reasons = dict(db.execute("SELECT record_key, rule FROM mip.rejected_rows WHERE source = 'publish:it:stage_offer' "
                              "AND run_id = %s", (run_id,)).fetchall())
    assert reasons["MIP-BADEAN"] == "gtin_checksum(ean)"
    assert reasons["MIP-NOIMAGE"] == "expect_column_values_to_be_between(image_count)"
    gates = dict(db.execute("SELECT task_id, success FROM mip.quality_results WHERE dag_id = %s AND run_id = %s",
                            (DAG_ID, run_id)).fetchall())
    assert gates == {"gate_offers": True, "gate_prices": True}

    # Amazon accepts everything (the apply step's job); the next run has nothing to send
    from mip.config import load_topology
    from mip.listings.planning import apply_accepted
    from mip.listings.stages import RunContext

    apply_accepted(db, RunContext(load_topology().channel("it"), run_id))
    db.commit()
    second = run_dag(DAG_ID, logical_date=datetime(2026, 10, 2, tzinfo=UTC))
    assert str(second.state) == "success", states(second)
    assert db.execute("SELECT count(*) FROM mip.stage_plan WHERE run_id = %s", (second.run_id,)).fetchone()[0] == 0


def test_a_gate_past_its_threshold_fails_the_run_with_the_rejected_rows_kept(clean, run_dag):
    db = clean
    insert_products(db, [product(f"OK{i}") for i in range(20)] + [product(f"NOBRAND{i}", brand=None) for i in range(5)])
    db.commit()
    dag_run = run_dag(DAG_ID, logical_date=datetime(2026, 10, 3, tzinfo=UTC))
    assert str(dag_run.state) == "failed"
    assert {k: v for k, v in states(dag_run).items() if k in ("gate_offers", "price", "plan")} == {
        "gate_offers": "failed", "price": "upstream_failed", "plan": "upstream_failed"}
    assert db.execute("SELECT count(*) FROM mip.rejected_rows WHERE source = 'publish:it:stage_offer' "
                      "AND run_id = %s AND rule = 'expect_column_values_to_not_be_null(brand)'",
                      (dag_run.run_id,)).fetchone()[0] == 5
    failing = db.execute("SELECT success, failing_expectations FROM mip.quality_results WHERE dag_id = %s "
                         "AND run_id = %s AND task_id = 'gate_offers'", (DAG_ID, dag_run.run_id)).fetchone()
    assert failing[0] is False and failing[1][0]["rule"] == "expect_column_values_to_not_be_null(brand)"


def test_a_channel_without_publish_settings_skips_every_step(clean, run_dag, topology_file, tmp_path, monkeypatch):
    raw = yaml.safe_load(topology_file.read_text())
    for channel in raw["channels"]:
        channel.pop("publish", None)
    unpublished = tmp_path / "channels.yaml"
    unpublished.write_text(json.dumps(raw))
    monkeypatch.setenv("MIP_CHANNELS_FILE", str(unpublished))
    dag_run = run_dag(DAG_ID, logical_date=datetime(2026, 10, 4, tzinfo=UTC))
    assert str(dag_run.state) == "success"
    assert states(dag_run) == {"check_channel": "success", **dict.fromkeys(STEPS[1:], "skipped")}
