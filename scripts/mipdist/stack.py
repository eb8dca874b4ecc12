"""One Airflow deployment on this machine: api-server, scheduler, dag-processor, triggerer, Celery workers.

Configured only through environment variables (like scripts/up.py and the compose file), on databases
and a Redis queue of its own, so it never meets another Airflow running here.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mip.secret_files import random_key, write_secret
from mipdist.processes import Supervisor
from mipdist.rest import AirflowApi

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin"


@dataclass(frozen=True)
class StackConfig:
    name: str  # "local" or "celery": names the work directory and the worker host names
    executor: str  # LocalExecutor | CeleryExecutor
    workers: int  # Celery workers (0 for LocalExecutor)
    airflow_url: str  # SQLAlchemy URL of the Airflow metadata database
    mip_url: str  # the mip database (connection mip_postgres)
    topology: Path
    home: Path
    broker_url: str | None = None  # Redis, with the db number of the harness
    queue: str | None = None  # the Celery queue of this run only
    worker_concurrency: int = 2
    extra_env: tuple[tuple[str, str], ...] = ()  # e.g. the sandbox's account connections


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_hostname(config: StackConfig, index: int) -> str:
    return f"mipdist-{config.name}-worker{index}"


class AirflowStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.port = free_port()
        self.supervisor = Supervisor(config.home / "process-logs")
        self.api: AirflowApi | None = None
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        c, home = self.config, self.config.home
        (home / "airflow").mkdir(parents=True, exist_ok=True)
        passwords = home / "passwords.json"
        write_secret(passwords, f'{{"{ADMIN_USER}": "{ADMIN_PASSWORD}"}}')
        # the caller's Airflow configuration (make up, a test session) must not leak into this stack
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MIP_"))}
        env.update(
            {
                "PATH": f"{BIN}:{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(home / "airflow"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": c.airflow_url,
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": c.executor,
                # only the runs the harness triggers: no scheduled runs, nothing to unpause
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                # Airflow 3: workers report to the execution API of the api-server, with tokens signed by
                # a secret every component shares
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": random_key(),
                "AIRFLOW__API_AUTH__JWT_SECRET": random_key(),
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "task-logs"),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "AIRFLOW_CONN_MIP_POSTGRES": c.mip_url,
                "MIP_DATABASE_URL": c.mip_url,
                "MIP_CHANNELS_FILE": str(c.topology),
            }
        )
        if c.executor == "CeleryExecutor":
            if not (c.broker_url and c.queue):
                raise ValueError("CeleryExecutor needs a broker URL and a queue")
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": c.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql://" + c.airflow_url.partition("://")[2],
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": c.queue,
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(c.worker_concurrency),
                    # a worker reserves only what it runs, so queued tasks spread over the workers
                    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
                }
            )
        env.update(dict(c.extra_env))
        return env

    def airflow(self, *args: str) -> list[str]:
        return [str(BIN / "airflow"), *args]

    def start(self, timeout: float = 600) -> AirflowApi:
        """Start every component and return the REST client once the api-server and workers are ready.
        ``timeout`` only stops a start that hangs: the waits fail at once when a process exits."""
        c, sv = self.config, self.supervisor
        sv.start("api-server", self.airflow("api-server", "--host", "127.0.0.1", "--port", str(self.port)), self.env)
        sv.start("scheduler", self.airflow("scheduler", "--skip-serve-logs"), self.env)
        sv.start("dag-processor", self.airflow("dag-processor"), self.env)
        sv.start("triggerer", self.airflow("triggerer", "--skip-serve-logs"), self.env)
        for index in range(1, c.workers + 1):
            host = worker_hostname(c, index)
            env = {
                **self.env,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "scripts"), self.env.get("PYTHONPATH")])),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "mipdist.hostname.worker_hostname",
                "MIP_WORKER_HOSTNAME": host,
            }
            command = self.airflow(
                "celery",
                "worker",
                "--celery-hostname",
                f"{host}@%h",
                "--queues",
                str(c.queue),
                "--concurrency",
                str(c.worker_concurrency),
                "--skip-serve-logs",
                "--without-mingle",
                "--without-gossip",
            )
            sv.start(host, command, env)
        self.api = AirflowApi(f"http://127.0.0.1:{self.port}", ADMIN_USER, ADMIN_PASSWORD, sv.check_alive)
        self.api.wait_healthy(timeout)
        self.wait_for_workers(timeout)
        return self.api

    def wait_for_workers(self, timeout: float) -> None:
        """Each worker logs ``celery@<name> ready.`` once it consumes its queue."""
        deadline = time.monotonic() + timeout
        for index in range(1, self.config.workers + 1):
            host = worker_hostname(self.config, index)
            log = self.supervisor.log_path(host)
            while f"{host}@" not in log.read_text(errors="replace") or " ready." not in log.read_text(errors="replace"):
                self.supervisor.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Celery worker {host} not ready within {timeout:.0f}s; see {log}")
                time.sleep(1)

    def stop(self) -> None:
        if self.api:
            self.api.close()
        self.supervisor.stop_all()
