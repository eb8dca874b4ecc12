"""dag.test() of every channel DAG against the session's sandbox: each runs, its channel check registers
the channel, then guards it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from tests.conftest import use_sandbox_connection
from tests.dags.conftest import task_states
from tests.dags.test_dagbag import DEMO_CHANNEL_DAGS


@pytest.fixture(scope="module")
def fresh_registry(mip_url):
    from mip.store.db import connect

    with connect(mip_url) as conn:
        conn.execute("TRUNCATE mip.channel_registry, mip.channel_registry_audit")


@pytest.mark.parametrize("dag_id", sorted(DEMO_CHANNEL_DAGS))
def test_each_channel_dag_runs(fresh_registry, run_dag, dag_id, db, clean_faults, monkeypatch):
    use_sandbox_connection(monkeypatch, clean_faults)
    dag_run = run_dag(dag_id, logical_date=datetime(2026, 11, 1, 10, tzinfo=UTC))
    assert str(dag_run.state) == "success", task_states(dag_run)
    channel = dag_id.rsplit("__", 1)[1]
    assert db.execute("SELECT role FROM mip.channel_registry WHERE channel_id = %s", (channel,)).fetchone()


def test_a_run_refuses_a_channel_whose_link_changed(run_dag, topology_file, db, monkeypatch, tmp_path):
    from mip.config import load_topology
    from mip.store import registry

    registry.deploy(db, load_topology(topology_file))
    db.commit()
    changed = tmp_path / "channels.yaml"
    shutil.copy(topology_file, changed)
    changed.write_text(
        changed.read_text().replace(
            "country: ES\n    role: international\n    linked_main: it",
            "country: ES\n    role: international\n    linked_main: de",
        )
    )
    monkeypatch.setenv("MIP_CHANNELS_FILE", str(changed))
    dag_run = run_dag("mip_orders__es", logical_date=datetime(2026, 11, 1, 11, tzinfo=UTC))
    assert task_states(dag_run)["check_channel"] == "failed"
    assert str(dag_run.state) == "failed"


def test_dag_generation_refuses_a_topology_that_contradicts_the_registry_snapshot(monkeypatch, tmp_path):
    from mip.airflow.factories import channel_dags
    from mip.airflow.pipelines.orders import ROLES, build
    from mip.store import registry
    from tests.conftest import ROOT

    topology = tmp_path / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    registry.snapshot_path(topology).write_text('[{"channel_id": "fr", "role": "main", "linked_main": null}]')
    monkeypatch.setenv("MIP_CHANNELS_FILE", str(topology))
    with pytest.raises(registry.RegistryConflict, match="channel 'fr' was deployed as main"):
        channel_dags("orders", build, ROLES)
    registry.snapshot_path(topology).write_text('[{"channel_id": "fr", "role": "international", "linked_main": "it"}]')
    assert "mip_orders__fr" in channel_dags("orders", build, ROLES)
