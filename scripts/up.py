"""`make up`: the database, the Amazon sandbox and Airflow 3 with the demo channels, in the foreground.

Database: ``MIP_DATABASE_URL`` and/or ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` when set (the missing
one is created on the same server); otherwise an embedded PostgreSQL under ``.local/postgres``.
Everything started here is stopped on Ctrl-C (the embedded PostgreSQL too). Logs: ``.local/logs``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local"
LOGS = LOCAL / "logs"
BIN = Path(sys.executable).parent
AIRFLOW_PORT = int(os.environ.get("MIP_AIRFLOW_PORT", "8080"))
SANDBOX_PORT = int(os.environ.get("MIP_SANDBOX_PORT", "8100"))
ADMIN_USER, ADMIN_PASSWORD = "admin", os.environ.get("MIP_ADMIN_PASSWORD", "admin")


def say(message: str) -> None:
    print(f"[mip up] {message}", flush=True)


def databases() -> tuple[str, str, bool]:
    """(mip URL, Airflow metadata URL, whether the embedded server was started)."""
    from mip.store import embedded
    from mip.store.server import ensure_database

    mip_url = os.environ.get("MIP_DATABASE_URL")
    airflow_url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    started = False
    if not mip_url and not airflow_url:
        say("no database configured: starting the embedded PostgreSQL under .local/postgres")
        server = embedded.ensure_running(LOCAL / "postgres")
        started = True
    else:
        server = mip_url or airflow_url  # the other database goes on the same server
    mip_url = mip_url or ensure_database(server, "mip")
    airflow_url = airflow_url or ensure_database(server, "airflow").replace("postgresql://", "postgresql+psycopg2://")
    return mip_url, airflow_url, started


def persistent_secret(name: str) -> str:
    """A random key kept under .local/secrets (urlsafe base64 of 32 bytes: also a valid Fernet key)."""
    path = LOCAL / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text()


def airflow_environment(mip_url: str, airflow_url: str) -> dict[str, str]:
    home = LOCAL / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({ADMIN_USER: ADMIN_PASSWORD}))
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{AIRFLOW_PORT}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{AIRFLOW_PORT}",
        "AIRFLOW__API__PORT": str(AIRFLOW_PORT),
        "AIRFLOW__API__SECRET_KEY": persistent_secret("api_secret_key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": persistent_secret("jwt_secret"),
        "AIRFLOW__CORE__FERNET_KEY": persistent_secret("fernet_key"),
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
        say(f"started {name} (pid {process.pid}, log .local/logs/{name}.log)")
        return process

    def watch(self) -> None:
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    say(f"{name} exited with code {process.returncode}; see .local/logs/{name}.log")
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


def run(command: list[str], env: dict[str, str], what: str) -> None:
    say(what)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"[mip up] failed: {what}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def wait_for_http(url: str, what: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    sys.exit(f"[mip up] {what} did not answer at {url} within {timeout:.0f}s; see .local/logs")


def main() -> None:
    mip_url, airflow_url, embedded_started = databases()
    env = {**os.environ, **airflow_environment(mip_url, airflow_url), "PATH": f"{BIN}:{os.environ['PATH']}"}
    run([str(BIN / "mip"), "db", "upgrade"], env, "migrating the mip schema")
    run([str(BIN / "mip"), "channels", "deploy"], env, "registering the demo channels")
    run([str(BIN / "airflow"), "db", "migrate"], env, "migrating Airflow's metadata database")
    supplier = LOCAL / "supplier"
    if not (supplier / "stock.csv").exists():
        run(
            [str(BIN / "python"), "-m", "sandbox.catalog", "--out", str(supplier), "--count", "5000", "--seed", "1"],
            {**env, "PYTHONPATH": str(ROOT)},
            "writing the demo supplier catalog (5,000 products) to .local/supplier",
        )
    env["MIP_SUPPLIER_DIR"] = str(supplier)
    env.setdefault("MIP_IMPORTS_DIR", str(LOCAL / "imports"))  # where Params may name files (mip.paths)
    Path(env["MIP_IMPORTS_DIR"]).mkdir(parents=True, exist_ok=True)
    env["AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT"] = "True"  # the demo's connections point at the local sandbox

    supervisor = Supervisor()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        supervisor.start(
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
            ],
            {**env, "PYTHONPATH": str(ROOT)},
        )
        wait_for_http(f"{sandbox_url}/_sandbox/health", "the SP-API sandbox")
        run(
            [str(BIN / "python"), "-m", "mip.airflow.setup", "--sandbox", sandbox_url],
            env,
            "creating the SP-API pools and the demo account's connection (sandbox credentials)",
        )
        supervisor.start("api-server", [str(BIN / "airflow"), "api-server", "--port", str(AIRFLOW_PORT)], env)
        supervisor.start("scheduler", [str(BIN / "airflow"), "scheduler"], env)
        supervisor.start("dag-processor", [str(BIN / "airflow"), "dag-processor"], env)
        supervisor.start("triggerer", [str(BIN / "airflow"), "triggerer"], env)
        wait_for_http(f"http://127.0.0.1:{AIRFLOW_PORT}/api/v2/monitor/health", "the Airflow api-server")
        say("")
        say(f"Airflow UI: http://127.0.0.1:{AIRFLOW_PORT}   login: {ADMIN_USER} / {ADMIN_PASSWORD}")
        say(f"Amazon SP-API sandbox: {sandbox_url} (accounts and test credentials: {sandbox_url}/_sandbox/accounts)")
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
