"""What ``make up`` listens on: the api-server and the task log servers on ``MIP_BIND_ADDRESS`` (127.0.0.1
by default), the sandbox on 127.0.0.1, each port from its variable, a taken port refused by name.

Airflow's own log servers (in ``airflow scheduler`` / ``airflow triggerer``) listen on every address
whatever the configuration, so ``make up`` turns them off and runs ``mip.airflow.log_server``; the last
test starts a real ``make up`` on free ports and reads the listening sockets of everything it started; it
also checks that the demo account runs on order events there (docs/order-events.md, "Locally").
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import uuid

import httpx
import psutil
import pytest

from tests.conftest import ROOT, SESSION
from tests.marketplaces.conftest import free_port
from tests.security.test_secret_files import airflow_environment, load_up, mode, run_up
from tests.waiting import cpu_seconds, process_trees, wait_until

LOG_PORT_VARIABLES = ("MIP_WORKER_LOG_PORT", "MIP_TRIGGERER_LOG_PORT")
EVENTS_DAG = "mip_order_events__demo"


def listening(*pids: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets listening in processes ``pids`` and their descendants."""
    found = set()
    for process in process_trees(*pids):
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def ports(monkeypatch, tmp_path) -> dict[str, int]:
    """Free ports for every port variable of ``make up``, and its state in a temporary directory."""
    monkeypatch.setenv("MIP_LOCAL_DIR", str(tmp_path / "local"))
    variables = ("MIP_AIRFLOW_PORT", "MIP_SANDBOX_PORT", "MIP_SUPPLIER_PORT", *LOG_PORT_VARIABLES)
    chosen = {name: free_port() for name in variables}
    for name, port in chosen.items():
        monkeypatch.setenv(name, str(port))
    monkeypatch.setenv("MIP_SQS_PORT", str(free_port()))  # not checked by make up (moto's own bind error)
    return chosen


def test_make_up_binds_to_127_0_0_1_by_default_with_the_ports_of_its_variables(ports, monkeypatch):
    from mip.airflow.hostname import bind_address

    monkeypatch.delenv("MIP_BIND_ADDRESS", raising=False)
    up = load_up()
    env = airflow_environment(up)

    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == str(ports["MIP_AIRFLOW_PORT"])
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == str(ports["MIP_WORKER_LOG_PORT"])
    assert env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] == str(ports["MIP_TRIGGERER_LOG_PORT"])
    assert {name: address for name, (_, address) in up.PORTS.items()} == dict.fromkeys(ports, "127.0.0.1")
    assert {name: port for name, (port, _) in up.PORTS.items()} == ports
    # the host name Airflow records for tasks leads the api-server to the log servers' address
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "mip.airflow.hostname.bind_address"
    monkeypatch.setenv("MIP_BIND_ADDRESS", env["MIP_BIND_ADDRESS"])
    assert bind_address() == "127.0.0.1"


@pytest.mark.parametrize(
    ("address", "recorded_host", "local_url_host"),
    [("0.0.0.0", socket.getfqdn(), "127.0.0.1"), ("::1", "[::1]", "[::1]"), ("10.1.2.3", "10.1.2.3", "10.1.2.3")],
)
def test_mip_bind_address_opts_into_another_address(ports, monkeypatch, address, recorded_host, local_url_host):
    from mip.airflow.hostname import bind_address

    monkeypatch.setenv("MIP_BIND_ADDRESS", address)
    up = load_up()
    env = airflow_environment(up)

    assert env["AIRFLOW__API__HOST"] == address
    assert (
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        == f"http://{local_url_host}:{ports['MIP_AIRFLOW_PORT']}/execution/"
    )
    assert up.PORTS["MIP_SANDBOX_PORT"][1] == "127.0.0.1", "the sandbox's admin API has no authentication"
    assert {up.PORTS[name][1] for name in ("MIP_AIRFLOW_PORT", *LOG_PORT_VARIABLES)} == {address}
    assert bind_address() == recorded_host


@pytest.mark.parametrize("variable", ["MIP_WORKER_LOG_PORT", "MIP_TRIGGERER_LOG_PORT", "MIP_AIRFLOW_PORT"])
def test_make_up_refuses_a_taken_port_naming_its_variable(ports, variable, tmp_path):
    with socket.socket() as taken:  # e.g. the log server of another make up on this machine
        taken.bind(("127.0.0.1", ports[variable]))
        taken.listen()
        result = run_up(tmp_path / "local")

    assert result.returncode == 1
    assert f"port {ports[variable]} ({variable}) is not free on 127.0.0.1" in result.stderr, result.stderr
    assert f"set {variable}" in result.stderr


def check_order_events(api, mip_url: str, sandbox_url: str, progress) -> None:
    """make up's demo account on events: the event DAG is scheduled on the queue's Asset, the account is
    subscribed, and once the DAG is unpaused orders the sandbox creates reach mip.orders through it, with
    the hourly imports still paused (Airflow pauses new DAGs)."""
    import time

    import psycopg

    def details() -> dict | None:
        answer = api._request("GET", f"/api/v2/dags/{EVENTS_DAG}/details")
        return answer.json() if answer.status_code == 200 else None

    dag = wait_until(details, timeout=300, every=2, progress=progress, what=f"{EVENTS_DAG} to be parsed")
    assert "mip://accounts/demo/order-events" in str(dag["asset_expression"]), dag
    with psycopg.connect(mip_url, autocommit=True) as conn:
        subscribed = conn.execute("SELECT queue_arn FROM mip.order_event_subscriptions WHERE account_id = 'demo'")
        assert subscribed.fetchall() == [("arn:aws:sqs:eu-west-1:123456789012:mip-orders",)]
        api._json("PATCH", f"/api/v2/dags/{EVENTS_DAG}", json={"is_paused": False})
        now, scale = time.time(), 10  # make up's sandbox runs at time scale 10
        # bought 35-40 Amazon minutes ago (past Pending): the sandbox notifies their changes to the queue
        body = {"seller_id": "A1MIPDEMOSELLER", "country": "IT", "count": 3, "skus": ["MIP-UP-A", "MIP-UP-B"]}
        body.update(start=now - 40 * 60 / scale, end=now - 35 * 60 / scale)
        created = httpx.post(f"{sandbox_url}/_sandbox/orders/generate", json=body, timeout=30)
        ids = sorted(created.raise_for_status().json()["amazon_order_ids"])

        def imported() -> bool:
            found = conn.execute("SELECT count(*) FROM mip.orders WHERE amazon_order_id = ANY(%s)", (ids,))
            return found.fetchone()[0] == len(ids)

        events_progress = lambda: api.task_progress([EVENTS_DAG])  # noqa: E731 - the event DAG's task states
        wait_until(imported, timeout=300, every=1, progress=events_progress, what="the orders through events")
        outcomes = conn.execute("SELECT DISTINCT outcome FROM mip.order_events WHERE amazon_order_id = ANY(%s)", (ids,))
        assert {o for (o,) in outcomes} <= {"imported", "unchanged"}
    assert api._json("GET", "/api/v2/dags/mip_orders__it/dagRuns")["total_entries"] == 0, "no hourly run"


def test_the_log_server_listens_only_where_told_and_serves_what_the_api_server_asks(tmp_path):
    """mip.airflow.log_server: Airflow's log application on 127.0.0.1 only, both ports in one process; it
    serves a log to the request Airflow's api-server makes (a token signed with [api] secret_key), and
    nothing without one."""
    from airflow.configuration import conf
    from airflow.utils.log.file_task_handler import _fetch_logs_from_service

    relative = "dag_id=d/run_id=r/task_id=t/attempt=1.log"
    (tmp_path / "logs" / relative).parent.mkdir(parents=True)
    (tmp_path / "logs" / relative).write_text("a line of the task's log\n")
    worker_port, triggerer_port = free_port(), free_port()
    env = {
        **os.environ,
        "AIRFLOW__API__SECRET_KEY": conf.get("api", "secret_key"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path / "logs"),
    }
    command = [sys.executable, "-m", "mip.airflow.log_server", "--host", "127.0.0.1"]
    command += ["--port", str(worker_port), "--port", str(triggerer_port)]
    with open(tmp_path / "log-server.log", "wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:

        def serving() -> bool:
            assert server.poll() is None, (tmp_path / "log-server.log").read_text()[-3000:]
            try:
                return httpx.get(f"http://127.0.0.1:{worker_port}/log/{relative}", timeout=10).status_code == 403
            except httpx.HTTPError:
                return False

        wait_until(serving, timeout=120, every=0.5, progress=lambda: cpu_seconds(server.pid), what="the log server")
        sockets = listening(server.pid)
        answers = [
            _fetch_logs_from_service(f"http://127.0.0.1:{port}/log/{relative}", relative)
            for port in (
                worker_port,
                triggerer_port,
            )
        ]
    finally:
        stop(server)

    assert sockets == {("127.0.0.1", worker_port), ("127.0.0.1", triggerer_port)}
    assert [(a.status_code, a.text) for a in answers] == [(200, "a line of the task's log\n")] * 2


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a real Airflow on a loaded machine; its waits fail on lack of progress
def test_a_real_make_up_listens_on_127_0_0_1_only(tmp_path):
    """scripts/up.py as `make up` runs it (on databases of its own on the suite's server, free ports, its
    state in a temporary directory): every socket any of its processes listens on is on 127.0.0.1, on the
    ports of its variables, and its secrets are 0600 in a 0700 directory. Its demo account runs on order events."""
    from mipdist.rest import AirflowApi

    from mip.store.server import drop_database, ensure_database

    names = [f"{SESSION['name']}_up_{uuid.uuid4().hex[:6]}", f"{SESSION['name']}_up_af_{uuid.uuid4().hex[:6]}"]
    mip_url, airflow_url = (ensure_database(SESSION["server"], name) for name in names)
    topology = tmp_path / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    variables = ("MIP_AIRFLOW_PORT", "MIP_SANDBOX_PORT", "MIP_SQS_PORT", "MIP_SUPPLIER_PORT", *LOG_PORT_VARIABLES)
    ports = {name: free_port() for name in variables}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MIP_"))}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        MIP_LOCAL_DIR=str(tmp_path / "local"),
        MIP_CHANNELS_FILE=str(topology),
        MIP_DATABASE_URL=mip_url,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_url.replace("postgresql://", "postgresql+psycopg2://", 1),
    )
    output = tmp_path / "make-up.log"
    with open(output, "wb") as log:
        up = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "up.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started: list[psutil.Process] = []
    try:

        def ready() -> bool:
            assert up.poll() is None, output.read_text()[-4000:]
            started[:] = psutil.Process(up.pid).children(recursive=True)
            return "mip database (schema mip):" in output.read_text()

        wait_until(ready, timeout=300, every=1, progress=lambda: cpu_seconds(up.pid), what="make up to be ready")
        assert "[mip up] Order events on: account demo subscribed" in output.read_text()
        sockets = listening(up.pid)
        api = AirflowApi(f"http://127.0.0.1:{ports['MIP_AIRFLOW_PORT']}", "admin", "admin", check=lambda: None)
        api.wait_healthy(60)
        sandbox_url = f"http://127.0.0.1:{ports['MIP_SANDBOX_PORT']}"
        check_order_events(api, mip_url, sandbox_url, progress=lambda: cpu_seconds(up.pid))
        # the psql command make up prints works as printed
        printed = output.read_text().split("mip database (schema mip): ", 1)[1].splitlines()[0]
        psql = subprocess.run(
            [*shlex.split(printed), "-At", "-c", "SELECT count(*) FROM mip.channel_registry"],
            capture_output=True,
            text=True,
        )
        secrets_dir = tmp_path / "local" / "secrets"
        secret_modes = {p.name: mode(p) for p in secrets_dir.iterdir()}
    finally:
        up.send_signal(signal.SIGTERM)  # make up stops everything it started
        try:
            up.wait(120)
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait(10)
            for process in started:
                if alive(process):
                    process.kill()
            for name in names:
                drop_database(SESSION["server"], name)

    assert psql.returncode == 0 and int(psql.stdout) >= 4, (printed, psql.stderr)
    assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
    assert {port for _, port in sockets} == set(ports.values()), (sockets, ports)
    assert mode(secrets_dir) == 0o700 and set(secret_modes.values()) == {0o600}, secret_modes
    assert up.returncode == 0 and not [p for p in started if alive(p)], "Ctrl-C (SIGTERM) stops everything"
