"""deploy/mip_init.py (MIP's part of the compose airflow-init) on real PostgreSQL and Airflow's metadata DB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import psycopg
import pytest

from tests.deploy.conftest import ROOT


@pytest.fixture
def fresh_mip_url(mip_url):
    """A mip database name that does not exist yet: mip_init.py must create it."""
    from mip.store.server import base_url, drop_database

    name = mip_url.rsplit("/", 1)[1] + "_init"
    yield f"{base_url(mip_url)}/{name}"
    drop_database(base_url(mip_url), name)


def airflow_libpq_url() -> str:
    return "postgresql://" + os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].partition("://")[2]


def test_creates_the_database_schema_registry_and_account_pools(airflow_db, fresh_mip_url, tmp_path):
    topology = tmp_path / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    env = {**os.environ, "MIP_DATABASE_URL": fresh_mip_url, "MIP_CHANNELS_FILE": str(topology)}
    env.pop("MIP_SANDBOX_URL", None)
    command = [sys.executable, str(ROOT / "deploy" / "mip_init.py"), "--pool-slots", "3"]

    for attempt in (1, 2):  # airflow-init runs on every `docker compose up`: the second run changes nothing
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"run {attempt}:\n{result.stdout}\n{result.stderr}"

    assert "sp_api__demo" in result.stdout
    with psycopg.connect(fresh_mip_url) as conn:
        assert conn.execute("SELECT count(*) FROM mip.alembic_version").fetchone()[0] >= 1
        registered = conn.execute(
            "SELECT channel_id, role, linked_main FROM mip.channel_registry ORDER BY 1"
        ).fetchall()
        audits = conn.execute("SELECT count(*) FROM mip.channel_registry_audit").fetchone()[0]
    assert registered == [
        ("de", "main", None),
        ("es", "international", "it"),
        ("fr", "international", "it"),
        ("it", "main", None),
    ]
    assert audits == 4, "the second run registered the channels again"
    assert (tmp_path / "channels.registry.json").exists(), "the registry snapshot for DAG parsing is missing"
    with psycopg.connect(airflow_libpq_url()) as conn:
        pools = dict(conn.execute("SELECT pool, slots FROM slot_pool WHERE pool LIKE 'sp_api__%'").fetchall())
    assert pools == {"sp_api__demo": 3}


def test_fails_loudly_when_the_topology_changes_a_deployed_channel(airflow_db, fresh_mip_url, tmp_path):
    """A failing airflow-init keeps every Airflow service of the compose file from starting."""
    topology = tmp_path / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    env = {**os.environ, "MIP_DATABASE_URL": fresh_mip_url, "MIP_CHANNELS_FILE": str(topology)}
    env.pop("MIP_SANDBOX_URL", None)
    command = [sys.executable, str(ROOT / "deploy" / "mip_init.py")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    changed = topology.read_text().replace("    linked_main: it\n  - id: es", "    linked_main: de\n  - id: es")
    assert changed != topology.read_text()
    topology.write_text(changed)
    (tmp_path / "channels.registry.json").unlink()  # only the database remembers the deployment now
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 1
    assert "channel 'fr' was deployed as international linked to it" in second.stderr
