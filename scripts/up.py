"""`make up`: the database, the Amazon sandbox and Airflow 3 with the demo channels, in the foreground.

Database: ``MIP_DATABASE_URL`` and/or ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` when set (the missing
one is created on the same server); otherwise an embedded PostgreSQL under ``.local/postgres``.
Everything started here is stopped on Ctrl-C (the embedded PostgreSQL too). Logs: ``.local/logs``.
Secrets (shared Airflow keys, the admin password file): ``.local/secrets``, 0600 files in a 0700
directory; an existing one others can read stops ``make up`` before it starts anything.

Listening: the api-server and the task log servers on ``MIP_BIND_ADDRESS`` (127.0.0.1 by default), the
sandbox and the embedded PostgreSQL on 127.0.0.1 always. Airflow's own log servers (in the scheduler
and the triggerer) would listen on every address, so they are off (``--skip-serve-logs``) and
``mip.airflow.log_server`` serves the same logs on the bind address.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mip.secret_files import (
    HMAC_KEY_BYTES,
    ExposedSecretError,
    kept_secret,
    private_directory,
    random_key,
    refuse_exposed,
    write_secret,
)
from mip.store.db import libpq_url
from mip.store.embedded import psql_binary

ROOT = Path(__file__).resolve().parents[1]
LOCAL = Path(os.environ.get("MIP_LOCAL_DIR") or ROOT / ".local").resolve()
LOGS = LOCAL / "logs"
SECRETS = LOCAL / "secrets"
BIN = Path(sys.executable).parent
BIND_ADDRESS = os.environ.get("MIP_BIND_ADDRESS", "127.0.0.1")
# variable -> (port, address it listens on)
PORTS = {
    "MIP_AIRFLOW_PORT": (int(os.environ.get("MIP_AIRFLOW_PORT", "8080")), BIND_ADDRESS),
    "MIP_SANDBOX_PORT": (int(os.environ.get("MIP_SANDBOX_PORT", "8100")), "127.0.0.1"),
    "MIP_SUPPLIER_PORT": (int(os.environ.get("MIP_SUPPLIER_PORT", "8110")), "127.0.0.1"),
    "MIP_WORKER_LOG_PORT": (int(os.environ.get("MIP_WORKER_LOG_PORT", "8793")), BIND_ADDRESS),
    "MIP_TRIGGERER_LOG_PORT": (int(os.environ.get("MIP_TRIGGERER_LOG_PORT", "8794")), BIND_ADDRESS),
}
AIRFLOW_PORT, SANDBOX_PORT = PORTS["MIP_AIRFLOW_PORT"][0], PORTS["MIP_SANDBOX_PORT"][0]
SQS_PORT = int(os.environ.get("MIP_SQS_PORT", "8102"))  # sandbox/sqs.py, loopback only
WORKER_LOG_PORT, TRIGGERER_LOG_PORT = PORTS["MIP_WORKER_LOG_PORT"][0], PORTS["MIP_TRIGGERER_LOG_PORT"][0]
ADMIN_USER, ADMIN_PASSWORD = "admin", os.environ.get("MIP_ADMIN_PASSWORD", "admin")
EVENTS_ACCOUNT, EVENTS_QUEUE = "demo", "mip-orders"  # the account make up switches to order events, its queue


def say(message: str) -> None:
    print(f"[mip up] {message}", flush=True)


def local_url_host(address: str) -> str:
    """How a client on this machine names a server listening on ``address`` (in a URL)."""
    if address in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{address}]" if ":" in address else address


def check_secrets() -> None:
    """Stop before starting anything when a kept secret is readable by group or others."""
    try:
        refuse_exposed([SECRETS, *(SECRETS.iterdir() if SECRETS.is_dir() else ())])
    except ExposedSecretError as exc:
        sys.exit(f"[mip up] {exc}")


def check_ports() -> None:
    """Stop before starting anything when a port is taken (another `make up`?), naming its variable."""
    for variable, (port, address) in PORTS.items():
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, port))
            except OSError as exc:
                sys.exit(f"[mip up] port {port} ({variable}) is not free on {address or '*'}: {exc}; set {variable}")


def databases() -> tuple[str, str, bool]:
    """(mip URL, Airflow metadata URL, whether the embedded server was started)."""
    from mip.store import embedded
    from mip.store.server import ensure_database

    mip_url = os.environ.get("MIP_DATABASE_URL")
    airflow_url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    started = False
    if not mip_url and not airflow_url:
        say(f"no database configured: starting the embedded PostgreSQL under {LOCAL / 'postgres'}")
        server = embedded.ensure_running(LOCAL / "postgres")
        started = True
    else:
        server = mip_url or airflow_url  # the other database goes on the same server
    mip_url = mip_url or ensure_database(server, "mip")
    airflow_url = airflow_url or ensure_database(server, "airflow").replace("postgresql://", "postgresql+psycopg2://")
    return mip_url, airflow_url, started


def without_password(url: str) -> str:
    """The URL to print: a configured password stays secret (psql asks for it)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}" if parts.username else host))


def fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def airflow_environment(mip_url: str, airflow_url: str) -> dict[str, str]:
    home = LOCAL / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").unlink(missing_ok=True)  # where versions before 0600 secrets kept it
    passwords = private_directory(SECRETS) / "passwords.json"
    write_secret(passwords, json.dumps({ADMIN_USER: ADMIN_PASSWORD}))
    airflow_url_host = local_url_host(BIND_ADDRESS)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{airflow_url_host}:{AIRFLOW_PORT}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://{airflow_url_host}:{AIRFLOW_PORT}",
        "AIRFLOW__API__HOST": BIND_ADDRESS,
        "AIRFLOW__API__PORT": str(AIRFLOW_PORT),
        "AIRFLOW__API__SECRET_KEY": kept_secret(SECRETS / "api_secret_key", random_key, HMAC_KEY_BYTES),
        "AIRFLOW__API_AUTH__JWT_SECRET": kept_secret(SECRETS / "jwt_secret", random_key, HMAC_KEY_BYTES),
        "AIRFLOW__CORE__FERNET_KEY": kept_secret(SECRETS / "fernet_key", fernet_key),
        # the log servers (mip.airflow.log_server) and the name that leads the api-server to them
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(WORKER_LOG_PORT),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(TRIGGERER_LOG_PORT),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "mip.airflow.hostname.bind_address",
        "MIP_BIND_ADDRESS": BIND_ADDRESS,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW_CONN_MIP_POSTGRES": mip_url,
        "MIP_DATABASE_URL": mip_url,
    }


class Supervisor:
    """Starts processes in their own process groups and stops them all on exit."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []
        LOGS.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process's lifetime
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process))
        say(f"started {name} (pid {process.pid}, log {LOGS / name}.log)")
        return process

    def watch(self) -> None:
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    say(f"{name} exited with code {process.returncode}; see {LOGS / name}.log")
                    return
            time.sleep(1)

    def stop_all(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                say(f"stopping {name}")
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def events_topology(queue_url: str) -> tuple[Path, bool]:
    """A copy of the topology (``MIP_CHANNELS_FILE`` or the shipped one) under ``MIP_LOCAL_DIR`` with the demo
    account's ``order_events`` on the local queue: make up runs on events, the shipped file (and so every test
    that loads the DAGs) keeps no queue watcher. ``mip channels deploy`` writes the registry snapshot next to
    it (``channels.registry.json``), where DAG generation reads it. Also says whether the demo account has events."""
    import yaml

    from mip.config import topology_path

    source = topology_path()
    topology = yaml.safe_load(source.read_text())
    events_on = False
    for account in topology.get("accounts") or []:
        if account.get("id") == EVENTS_ACCOUNT:
            account.setdefault("order_events", {"queue_url": queue_url, "aws_conn_id": "mip_aws"})
            events_on = True
    target = LOCAL / "channels.yaml"
    LOCAL.mkdir(parents=True, exist_ok=True)
    header = f"# Written by make up from {source} (the demo account's order events on the local queue).\n"
    target.write_text(header + yaml.safe_dump(topology, sort_keys=False, allow_unicode=True))
    return target, events_on


def run(command: list[str], env: dict[str, str], what: str) -> None:
    say(what)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"[mip up] failed: {what}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def wait_for_http(url: str, what: str, process: subprocess.Popen, timeout: float = 900) -> None:
    """Until ``url`` answers, as long as ``process`` (the server) runs: a slow machine only takes longer."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"[mip up] {what} exited with code {process.returncode} before answering; see {LOGS}")
        try:
            if httpx.get(url, timeout=10).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    sys.exit(f"[mip up] {what} did not answer at {url} within {timeout:.0f}s; see {LOGS}")


def main() -> None:
    check_secrets()
    check_ports()
    mip_url, airflow_url, embedded_started = databases()
    env = {**os.environ, **airflow_environment(mip_url, airflow_url), "PATH": f"{BIN}:{os.environ['PATH']}"}
    sqs_endpoint = f"http://127.0.0.1:{SQS_PORT}"
    topology, events_on = events_topology(f"{sqs_endpoint}/123456789012/{EVENTS_QUEUE}")  # sandbox.sqs's account
    env["MIP_CHANNELS_FILE"] = str(topology)
    run([str(BIN / "mip"), "db", "upgrade"], env, "migrating the mip schema")
    run([str(BIN / "mip"), "channels", "deploy"], env, "registering the demo channels")
    run([str(BIN / "airflow"), "db", "migrate"], env, "migrating Airflow's metadata database")
    supplier = LOCAL / "supplier"
    if not (supplier / "stock.csv").exists():
        run(
            [str(BIN / "python"), "-m", "sandbox.catalog", "--out", str(supplier), "--count", "5000", "--seed", "1"],
            {**env, "PYTHONPATH": str(ROOT)},
            f"writing the demo supplier catalog (5,000 products) to {supplier}",
        )
    env["MIP_SUPPLIER_DIR"] = str(supplier)
    env.setdefault("MIP_IMPORTS_DIR", str(LOCAL / "imports"))  # where Params may name files (mip.paths)
    Path(env["MIP_IMPORTS_DIR"]).mkdir(parents=True, exist_ok=True)
    env["AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT"] = "True"  # the demo's connections point at the local sandbox

    supervisor = Supervisor()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        # the queue of Amazon's ORDER_CHANGE notifications (moto; docs/order-events.md)
        sqs = [str(BIN / "python"), "-m", "sandbox.sqs", "--port", str(SQS_PORT), "--state", str(LOCAL / "sqs")]
        supervisor.start("sqs", [*sqs, "--queue", EVENTS_QUEUE], {**env, "PYTHONPATH": str(ROOT)})
        sandbox = supervisor.start(
            "sandbox",
            [
                str(BIN / "python"),
                "-m",
                "sandbox.spapi",
                "--port",
                str(SANDBOX_PORT),
                "--state",
                str(LOCAL / "sandbox"),
                "--time-scale",
                "10",
                "--orders-per-hour",
                "20",
                "--ship-on-confirmation",  # seller-fulfilled orders ship when mip_fulfil confirms them
                "--sqs-endpoint",
                sqs_endpoint,
            ],
            {**env, "PYTHONPATH": str(ROOT)},
        )
        wait_for_http(f"{sandbox_url}/_sandbox/health", "the SP-API sandbox", sandbox)
        supplier_port = PORTS["MIP_SUPPLIER_PORT"][0]
        supplier_api = supervisor.start(
            "supplier",
            [
                str(BIN / "python"),
                "-m",
                "sandbox.supplier",
                "--port",
                str(supplier_port),
                "--state",
                str(LOCAL / "supplier-api"),
                "--time-scale",
                "10",
                "--handling-hours",
                "2",
            ],
            {**env, "PYTHONPATH": str(ROOT)},
        )
        wait_for_http(f"http://127.0.0.1:{supplier_port}/_supplier/health", "the supplier stand-in", supplier_api)
        env.setdefault("MIP_FULFIL_RISK_MARGIN_HOURS", "1")  # the demo's LatestShipDate is 4.8 h after purchase
        run(
            [
                str(BIN / "python"),
                "-m",
                "mip.airflow.setup",
                "--sandbox",
                sandbox_url,
                "--supplier",
                f"http://127.0.0.1:{supplier_port}/rest",
                "--supplier-key-file",
                str(LOCAL / "supplier-api" / "api_key"),
                "--sqs-endpoint",
                sqs_endpoint,
            ],
            env,
            "creating the SP-API pools, the demo account's, the supplier's and the queue's connections (sandbox)",
        )
        if events_on:
            run([str(BIN / "mip"), "notifications", "subscribe", EVENTS_ACCOUNT], env, "subscribing the demo account")
        airflow = str(BIN / "airflow")
        api_server = supervisor.start(
            "api-server", [airflow, "api-server", "--host", BIND_ADDRESS, "--port", str(AIRFLOW_PORT)], env
        )
        # Airflow's log servers would listen on every address: this one listens on the bind address only
        log_ports = ["--port", str(WORKER_LOG_PORT), "--port", str(TRIGGERER_LOG_PORT)]
        supervisor.start(
            "log-server",
            [str(BIN / "python"), "-m", "mip.airflow.log_server", "--host", BIND_ADDRESS, *log_ports],
            env,
        )
        supervisor.start("scheduler", [airflow, "scheduler", "--skip-serve-logs"], env)
        supervisor.start("dag-processor", [airflow, "dag-processor"], env)
        supervisor.start("triggerer", [airflow, "triggerer", "--skip-serve-logs"], env)
        ui = f"http://{local_url_host(BIND_ADDRESS)}:{AIRFLOW_PORT}"
        wait_for_http(f"{ui}/api/v2/monitor/health", "the Airflow api-server", api_server)
        say("")
        say(f"Airflow UI: {ui}   login: {ADMIN_USER} / {ADMIN_PASSWORD}")
        say(f"Amazon SP-API sandbox: {sandbox_url} (accounts and test credentials: {sandbox_url}/_sandbox/accounts)")
        say(f"Supplier stand-in (BigBuy order API): http://127.0.0.1:{supplier_port}/rest (truth: /_supplier/orders)")
        if events_on:
            say(
                f"Order events on: account {EVENTS_ACCOUNT} subscribed, queue {sqs_endpoint} ({EVENTS_QUEUE}); unpause "
                f"mip_order_events__{EVENTS_ACCOUNT} (topology {topology})"
            )
        say(f"mip database (schema mip): {psql_binary()} '{without_password(libpq_url(mip_url))}'")
        say("DAGs appear within ~30 s (filter by tag, e.g. channel:it). Ctrl-C stops everything.")
        supervisor.watch()
    except KeyboardInterrupt:
        say("Ctrl-C: stopping")
    finally:
        supervisor.stop_all()
        if embedded_started:
            from mip.store import embedded

            say("stopping the embedded PostgreSQL")
            embedded.stop(LOCAL / "postgres")


if __name__ == "__main__":
    main()
