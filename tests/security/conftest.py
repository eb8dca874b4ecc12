"""The security suite's fixtures: a sandbox and an Airflow api-server of its own with one user per role of
Airflow's simple auth manager (viewer, user, op, admin; anonymous is no user), and the registers the last
test (``test_z_no_secret_in_logs``) greps: every text the suite's tests printed and every log file written.

The api-server's topology has three accounts: ``demo`` (connection with the sandbox application's
credentials), ``other`` (no connection: the app-credentials form creates it) and ``evil`` (a connection
whose endpoint is not allowed, as a careless edit in Admin > Connections would leave it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dags.conftest import dagbag, run_dag  # noqa: F401
from tests.marketplaces.conftest import app_credentials, put_connection, run_api_server

ROLES = ("viewer", "user", "op", "admin")
USERS = {role: f"{role}-password" for role in ROLES}
EVIL_ENDPOINT = "http://evil.example:9"
TOPOLOGY = """\
settings: {max_main_channels: 2}
accounts:
  - {id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: amazon_sp_api_sec_demo}
  - {id: other, seller_id: A2MIPOTHERSELLER, region: eu, connection_id: amazon_sp_api_sec_other}
  - {id: evil, seller_id: A3MIPINACTIVE00, region: eu, connection_id: amazon_sp_api_sec_evil}
channels:
  - {id: it, account: demo, country: IT, role: main}
  - {id: fr_other, account: other, country: FR, role: international, linked_main: it}
  - {id: de_evil, account: evil, country: DE, role: international, linked_main: it}
"""


@pytest.fixture(scope="session")
def printed() -> list[str]:
    """Everything the security tests printed (dag.test() task logs included), for the final grep."""
    return []


@pytest.fixture(autouse=True)
def _keep_output(capfd, printed):
    yield
    out, err = capfd.readouterr()
    printed.append(out + err)


@pytest.fixture
def output(capfd, printed):
    """``output()``: what the test printed since the last call (kept for the final grep too)."""

    def read() -> str:
        out, err = capfd.readouterr()
        printed.append(out + err)
        return out + err

    return read


@pytest.fixture(scope="session")
def sec_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("security-spapi"), time_scale=60.0) as running:
        yield running


@pytest.fixture(scope="session")
def sec_server(airflow_db, sec_sandbox, tmp_path_factory):
    """The api-server with the Marketplaces plugin and one user per role (password ``<role>-password``)."""
    put_connection("amazon_sp_api_sec_demo", app_credentials(sec_sandbox))
    put_connection("amazon_sp_api_sec_other", None)
    put_connection("amazon_sp_api_sec_evil", {**app_credentials(sec_sandbox), "endpoint": EVIL_ENDPOINT})
    with run_api_server(tmp_path_factory.mktemp("security-airflow"), TOPOLOGY, USERS, sec_sandbox) as server:
        yield server


def log_files(*folders: Path) -> list[Path]:
    """Every file under ``folders`` that is a log: ``*.log`` and whatever Airflow keeps under ``logs/``."""
    found: set[Path] = set()
    for folder in folders:
        found |= {p for p in folder.rglob("*.log") if p.is_file()}
        found |= {p for logs in folder.rglob("logs") if logs.is_dir() for p in logs.rglob("*") if p.is_file()}
    return sorted(found)
