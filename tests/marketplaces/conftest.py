"""A real Airflow api-server with the Marketplaces plugin, on the session's databases, and a sandbox.

The api-server runs ``plugins/`` and a topology of its own (accounts demo, other and inactive of
the sandbox); users ``admin`` (admin) and ``viewer`` (viewer) of Airflow's simple auth manager. The
connections of demo and inactive hold the sandbox application's credentials but no authorization
yet (other has none): the tests connect them through the consent flow. One run of
``mip_migrate_csv__it`` gives the page a DAG run to show (``dag.test()`` also writes every DAG and
Asset of ``dags/`` to the metadata DB), and real health checks of other and inactive give it
``mip.account_health`` results.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.testing import NO_KEEPALIVE
from tests.conftest import ROOT

PREFIX = "/mip/marketplaces"
USERS = {"admin": "admin", "viewer": "viewer"}
TOPOLOGY = """\
settings: {max_main_channels: 2}
accounts:
  - {id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: amazon_sp_api_mp_demo}
  - {id: other, seller_id: A2MIPOTHERSELLER, region: eu, connection_id: amazon_sp_api_mp_other}
  - {id: inactive, seller_id: A3MIPINACTIVE00, region: eu, connection_id: amazon_sp_api_mp_inactive}
channels:
  - {id: it, account: demo, country: IT, role: main}
  - {id: de, account: demo, country: DE, role: main}
  - {id: fr, account: demo, country: FR, role: international, linked_main: it}
  - {id: es, account: demo, country: ES, role: international, linked_main: it}
  - {id: fr_other, account: other, country: FR, role: international, linked_main: it}
  - {id: de_inactive, account: inactive, country: DE, role: international, linked_main: de}
"""


@dataclass
class AirflowServer:
    base_url: str
    sandbox: object
    log: Path
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    env: dict[str, str] = field(default_factory=dict)  # the api-server's environment (its keys, for the tests)

    def token(self, user: str) -> str:
        answer = httpx.post(f"{self.base_url}/auth/token", json={"username": user, "password": self.users[user]})
        assert answer.status_code == 201, answer.text
        return answer.json()["access_token"]

    def client(self, user: str | None = "admin") -> httpx.Client:
        """A client carrying the UI's session cookie of ``user`` (None: anonymous)."""
        cookies = {"_token": self.token(user)} if user else {}
        return httpx.Client(base_url=self.base_url, cookies=cookies, timeout=60, limits=NO_KEEPALIVE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def put_connection(conn_id: str, extra: dict | None) -> None:
    """Create (or with None, delete) a connection in the session's Airflow metadata DB."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Connection).where(Connection.conn_id == conn_id))
        if extra is not None:
            session.add(Connection(conn_id=conn_id, conn_type="amazon_sp_api", extra=json.dumps(extra)))


def connection_extra(conn_id: str) -> dict | None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
        return found.extra_dejson if found else None


def app_credentials(sandbox) -> dict:
    demo = sandbox.account("demo")
    return {
        "region": "eu",
        "lwa_client_id": demo["lwa_client_id"],
        "lwa_client_secret": demo["lwa_client_secret"],
        "application_id": demo["application_id"],
        "endpoint": sandbox.base_url,
    }


@pytest.fixture(scope="session")
def mp_sandbox(tmp_path_factory):
    """A sandbox of the Marketplaces tests' own (they change participations and sign sellers in)."""
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("marketplaces-spapi"), time_scale=60.0) as running:
        yield running


def _record_health(sandbox, mip_url: str, account_id: str) -> None:
    """Check an account against the sandbox and record it as mip_account_health does (the page shows it)."""
    from mip.airflow.hooks.sp_api import credentials_from_extra
    from mip.airflow.setup import sandbox_connection_extra
    from mip.amazon.budget import RateBudget
    from mip.amazon.gateway import RetryPolicy, SpApiGateway
    from mip.amazon.health import check_account
    from mip.config import parse_topology
    from mip.store.db import connect

    topology = parse_topology(TOPOLOGY, "channels.yaml")
    account = topology.account(account_id)
    credentials = credentials_from_extra(
        account_id, sandbox_connection_extra(sandbox.base_url, sandbox.account(account.seller_id))
    )
    with connect(mip_url, autocommit=True) as conn:
        gateway = SpApiGateway(credentials, RateBudget(conn, account.seller_id), RetryPolicy(max_attempts=2))
        report = check_account(gateway, account, [c for c in topology.channels if c.account == account_id])
        conn.execute(
            "INSERT INTO mip.account_health (account_id, status, authorization_age_days, message, details)"
            " VALUES (%s, %s, %s, %s, %s)",
            (account_id, report.status, report.authorization_age_days, report.message, json.dumps(report.details())),
        )


def _one_dag_run() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    # One run to show on the page; its steps after check_channel need no Amazon here: marked success.
    run = bag.get_dag("mip_migrate_csv__it").test(mark_success_pattern=r"^(?!check_channel$).*")
    assert str(run.state) == "success"


@pytest.fixture(scope="session")
def airflow_server(airflow_db, mp_sandbox, mip_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("marketplaces-airflow")
    for account in ("demo", "inactive"):
        put_connection(f"amazon_sp_api_mp_{account}", app_credentials(mp_sandbox))
    put_connection("amazon_sp_api_mp_other", None)
    _one_dag_run()
    for account in ("other", "inactive"):  # ids no other test uses: their health rows are ours
        _record_health(mp_sandbox, mip_url, account)
    with run_api_server(home, TOPOLOGY, USERS, mp_sandbox) as server:
        yield server


@contextmanager
def run_api_server(home: Path, topology_text: str, users: dict[str, str], sandbox) -> Iterator[AirflowServer]:
    """An Airflow api-server with ``plugins/`` on the session's databases, its own topology and users (name ->
    password; each user's role is its name in the simple auth manager), logging at INFO to ``home``."""
    topology = home / "channels.yaml"
    topology.write_text(topology_text)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps(users))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_AMAZON")}
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "MIP_CHANNELS_FILE": str(topology),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{name}" for name in users),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    log_path = home / "api-server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow",
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(process, base_url, log_path)
        yield AirflowServer(base_url, sandbox, log_path, users, env)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def _wait_healthy(process: subprocess.Popen, base_url: str, log_path: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the api-server exited ({process.returncode}):\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the api-server did not answer within {timeout:.0f}s:\n{log_path.read_text()[-4000:]}")


# --- the consent flow over HTTP (what the browser does, for the non-browser tests) ----------------------------
def csrf_of(client: httpx.Client) -> str:
    page = client.get(f"{PREFIX}/")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def start_consent(client: httpx.Client, **form: str) -> str:
    """Submit a Connect form; returns the consent URL MIP redirects to."""
    answer = client.post(f"{PREFIX}/connect", data={**form, "csrf": csrf_of(client)})
    assert answer.status_code == 303, answer.text[-2000:]
    return answer.headers["location"]


def approve_on_amazon(sandbox, consent_url: str, account: str, country: str | None = None) -> str:
    """Sign in on the sandbox's consent page as ``account`` and confirm; returns the callback URL."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    seller = sandbox.account(account)
    answer = httpx.post(
        f"{sandbox.base_url}/apps/authorize/consent",
        data={
            **params,
            "email": seller["login_email"],
            "password": seller["login_password"],
            "country": country or "IT",
            "action": "confirm",
        },
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def notice_of(html: str) -> str:
    """``code | text`` of the page's notice (the banner of an outcome or a refusal)."""
    found = re.search(r'id="notice" data-code="([^"]*)">(.*?)</div>', html, re.S)
    assert found, "the page shows no notice"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(2)))
    return f"{found.group(1)} | {unescape(text).strip()}"
