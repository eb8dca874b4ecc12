"""``mip_fulfil__<channel>`` with dag.test(): the connections as tasks read them, both stand-ins over HTTP."""

from __future__ import annotations

import json

import pytest

from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states
from tests.fulfilment.conftest import both_truths, import_orders, shippable, states


@pytest.fixture(scope="module")
def instant_supplier(tmp_path_factory):
    """A supplier that ships at once (handling time 0), so the run's tracking wait ends on its first poke."""
    from sandbox.supplier.testing import run_supplier

    with run_supplier(tmp_path_factory.mktemp("dag-supplier"), extra_args=["--handling-hours", "0"]) as running:
        yield running


def supplier_connection(monkeypatch, supplier) -> None:
    connection = {"conn_type": "bigbuy", "password": supplier.api_key, "extra": {"base_url": supplier.base_url}}
    monkeypatch.setenv("AIRFLOW_CONN_MIP_SUPPLIER", json.dumps(connection))


def test_one_dag_per_main_and_international_channel(dagbag):
    assert {"mip_fulfil__it", "mip_fulfil__de", "mip_fulfil__fr", "mip_fulfil__es"} <= set(dagbag.dag_ids)
    dag = dagbag.get_dag("mip_fulfil__it")
    assert [t.task_id for t in dag.topological_sort()][:3] == ["check_channel", "gate", "send"]
    assert dag.get_task("track").mode == "reschedule"


def test_a_run_sends_tracks_and_confirms(run_dag, fresh, spapi, instant_supplier, make_gateway, monkeypatch):
    db = fresh
    use_sandbox_connection(monkeypatch, spapi)
    supplier_connection(monkeypatch, instant_supplier)
    ids = import_orders(db, spapi, make_gateway(spapi), 6)
    wanted = shippable(spapi, ids)
    run = run_dag("mip_fulfil__it")
    assert task_states(run) == {
        "check_channel": "success",
        "gate": "success",
        "send": "success",
        "track": "success",
        "confirm": "success",
        "refusals": "success",
        "late_shipment_risk": "success",
    }
    assert set(states(db, wanted).values()) == {"confirmed"}
    result = both_truths(db, spapi, instant_supplier, set(ids), wanted)
    assert (result["sent_twice"], result["lost"], result["confirmed"]) == (0, [], len(wanted))


def test_a_refused_order_fails_its_gate_with_the_fix_and_the_rest_goes_on(
    run_dag, fresh, spapi, instant_supplier, make_gateway, monkeypatch
):
    db = fresh
    use_sandbox_connection(monkeypatch, spapi)
    supplier_connection(monkeypatch, instant_supplier)
    db.execute("DELETE FROM mip.listings WHERE sku = 'MIP-FUL-B'")
    db.commit()
    ids = import_orders(db, spapi, make_gateway(spapi), 6)
    run = run_dag("mip_fulfil__it")
    found = task_states(run)
    assert found["refusals"] == "failed" and found["confirm"] == "success", found
    assert "refused" in states(db, ids).values()


def test_the_supplier_base_url_is_confined(run_dag, fresh, spapi, monkeypatch):
    use_sandbox_connection(monkeypatch, spapi)
    connection = {"conn_type": "bigbuy", "password": "k", "extra": {"base_url": "http://attacker.example/rest"}}
    monkeypatch.setenv("AIRFLOW_CONN_MIP_SUPPLIER", json.dumps(connection))
    run = run_dag("mip_fulfil__it")
    assert task_states(run)["send"] == "failed"
