"""Test session setup: real PostgreSQL databases of their own, Airflow configured around them.

Database server: ``MIP_TEST_DATABASE_URL`` if set (``embedded`` forces the embedded PostgreSQL),
else the PostgreSQL on 127.0.0.1:5432 if reachable, else the embedded one under ``.local/``.
Each session creates its own ``mip`` database and Airflow metadata database on that server (so
parallel sessions never meet) and drops them at the end (``MIP_KEEP_TEST_DB=1`` keeps them).

Airflow reads its configuration when first imported, so everything is set in ``pytest_configure``,
before any test module imports Airflow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432"
SESSION = {}


def _test_server() -> str:
    from mip.store import embedded
    from mip.store.server import reachable

    configured = os.environ.get("MIP_TEST_DATABASE_URL")
    if configured and configured != "embedded":
        return configured
    if not configured and reachable(LOCAL_SERVER):
        return LOCAL_SERVER
    return embedded.ensure_running(ROOT / ".local" / "test-postgres")


def pytest_configure(config: pytest.Config) -> None:
    from mip.store.migrate import upgrade
    from mip.store.server import base_url, ensure_database

    server = base_url(_test_server())
    name = f"mip_test_{uuid.uuid4().hex[:10]}"
    home = Path(tempfile.mkdtemp(prefix="mip-test-"))
    mip_url = ensure_database(server, name)
    airflow_url = ensure_database(server, f"{name}_airflow")
    topology = home / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    SESSION.update(server=server, name=name, home=home, mip_url=mip_url, airflow_url=airflow_url)
    os.environ.update(
        {
            "MIP_DATABASE_URL": mip_url,
            "MIP_CHANNELS_FILE": str(topology),
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_MIP_POSTGRES": mip_url,
        }
    )
    upgrade(mip_url)
    print(f"test databases {name} and {name}_airflow on {server}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not SESSION or os.environ.get("MIP_KEEP_TEST_DB"):
        return
    from mip.store.server import drop_database

    drop_database(SESSION["server"], SESSION["name"])
    drop_database(SESSION["server"], f"{SESSION['name']}_airflow")
    shutil.rmtree(SESSION["home"], ignore_errors=True)


@pytest.fixture(scope="session")
def mip_url() -> str:
    return SESSION["mip_url"]


@pytest.fixture(scope="session")
def topology_file() -> Path:
    return Path(os.environ["MIP_CHANNELS_FILE"])


@pytest.fixture
def db(mip_url):
    """A connection to the session's mip database (search_path mip), committed after the test."""
    from mip.store.db import connect

    with connect(mip_url) as conn:
        yield conn


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the session's Airflow metadata database (once, on first use)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
