"""Test session setup: real PostgreSQL databases of their own, Airflow configured around them.

Database server: ``MIP_TEST_DATABASE_URL`` if set (``embedded`` forces the embedded PostgreSQL),
else the PostgreSQL on 127.0.0.1:5432 if reachable, else the embedded one under ``.local/``.
Each session creates its own ``mip`` database and Airflow metadata database on that server (so
parallel sessions never meet) and drops them at the end (``MIP_KEEP_TEST_DB=1`` keeps them).

Airflow reads its configuration when first imported, so everything is set when this module is
imported: pytest imports it before any other conftest or test module (even when a subdirectory's
tests are run alone, whose conftest pytest loads before ``pytest_configure``).
"""

from __future__ import annotations

import base64
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


def fast_retries():
    """A retry policy for tests: the same logic as production, with short waits."""
    from mip.amazon.gateway import RetryPolicy

    return RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.5, max_elapsed=30, timeout=10)


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


def _configure_session() -> None:
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
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            # feeds take seconds in a time-scaled sandbox: poll them every second (production: 60 s)
            "MIP_FEED_POKE_SECONDS": "1",
            # files named by Params must be here (mip.paths); tests write them through the imports_dir fixture
            "MIP_IMPORTS_DIR": str(home / "imports"),
            # connections point at sandboxes on 127.0.0.1 (production allows only Amazon's endpoints)
            "AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT": "True",
        }
    )
    (home / "imports").mkdir()
    upgrade(mip_url)
    print(f"test databases {name} and {name}_airflow on {server}")


_configure_session()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not SESSION or os.environ.get("MIP_KEEP_TEST_DB"):
        return
    from mip.store.server import drop_database

    if "airflow.settings" in sys.modules:  # close Airflow's pooled connections before the drop
        sys.modules["airflow.settings"].dispose_orm()
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
def imports_dir(request) -> Path:
    """A fresh folder of the test's own inside ``MIP_IMPORTS_DIR``, where Params may name files."""
    folder = Path(os.environ["MIP_IMPORTS_DIR"]) / f"{request.node.name[:60]}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    return folder


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


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The SP-API sandbox (demo state, time scale 60) for the whole session; see sandbox/testing.py.

    Shared by every test: leave the demo accounts usable (revoke tokens, change participations or
    BIL links only on a sandbox of your own, ``sandbox.testing.run_sandbox``). Every response is
    checked against Amazon's models (``GET /_sandbox/contract-violations``).
    """
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("spapi"), time_scale=60.0, extra_args=["--validate-responses"]) as running:
        yield running


@pytest.fixture
def clean_faults(sandbox):
    """The session sandbox with no faults switched on, before and after the test."""
    sandbox.reset_faults()
    yield sandbox
    sandbox.reset_faults()


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory):
    """A sandbox of the test module's own, for tests that revoke tokens or change participations."""
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("own-spapi"), time_scale=60.0) as running:
        yield running


@pytest.fixture
def make_gateway(mip_url):
    """``make_gateway(sandbox, account="demo", policy=fast_retries(), **connection_overrides)``: a gateway
    built like tasks build it (credentials from a connection's extra, the budget in the mip database),
    pointed at a sandbox, with both rate buckets (ours and the sandbox's) starting full."""
    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.airflow.setup import sandbox_connection_extra
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import SpApiGateway
    from mip.store.db import connect
    from sandbox.testing import forget_access_tokens

    contexts = []

    def make(sandbox, account: str = "demo", policy=None, **overrides):
        forget_access_tokens()
        extra = {**sandbox_connection_extra(sandbox.base_url, sandbox.account(account)), **overrides}
        credentials = credentials_from_extra(account, extra)
        context = connect(mip_url, autocommit=True)
        contexts.append(context)
        conn = context.__enter__()
        conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = %s", (credentials.seller_id,))
        sandbox.admin("POST", "reset-rate-limits")
        return SpApiGateway(credentials, RateBudget(conn, credentials.seller_id), policy or fast_retries())

    yield make
    for context in contexts:
        context.__exit__(None, None, None)


def use_sandbox_connection(monkeypatch, sandbox, account: str = "demo", **overrides) -> dict:
    """Point the account's connection (``AIRFLOW_CONN_AMAZON_SP_API_<ACCOUNT>``) at ``sandbox`` for
    dag.test() runs; returns the connection's extra (``overrides`` replace fields)."""
    import json

    from mip.airflow.setup import sandbox_connection_extra
    from sandbox.testing import forget_access_tokens

    extra = {**sandbox_connection_extra(sandbox.base_url, sandbox.account(account)), **overrides}
    monkeypatch.setenv(
        f"AIRFLOW_CONN_AMAZON_SP_API_{account.upper()}", json.dumps({"conn_type": "amazon_sp_api", "extra": extra})
    )
    forget_access_tokens()
    return extra
