"""`make distributed-test`: the demo DAGs on Airflow with CeleryExecutor and two workers, checked
against a LocalExecutor run of the same DAGs.

Both deployments run on this machine, each with its own Airflow metadata database and ``mip``
database (created here and dropped at the end) on the local PostgreSQL, the Celery one with its own
queue on a dedicated Redis database. Each gets the same setup as the compose ``airflow-init``
(deploy/mip_init.py: mip schema, pools per seller account, the sandbox's account connections) and,
when the SP-API sandbox exists, a fresh sandbox with the same seed. The harness triggers every DAG
of ``PIPELINES`` for the demo channels through the REST API with one logical date and run id, waits
for them, and checks that

- every run succeeded in both deployments, with the same task instances;
- every Celery worker executed tasks (task instance host names);
- the ``mip`` tables hold the same rows after both runs (timestamps and serial ids aside).

Every process it starts is stopped, in every case. Exit code 0 when all checks pass.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mipdist.rest import TaskRecord
from mipdist.stack import ROOT, AirflowStack, StackConfig, worker_hostname
from mipdist.tables import TableSnapshot, differences, snapshot

# The pipelines whose DAGs both deployments run, for every demo channel they apply to. Add a
# pipeline here when its DAG can run unattended against the sandbox (a manual one, e.g. migrate_csv,
# needs its Params in RUN_CONF).
PIPELINES: tuple[str, ...] = ("publish", "verify_international", "orders")
RUN_CONF: dict[str, dict] = {}  # pipeline -> conf of its runs
# Commands that load each deployment's input data before the runs, run from the repository with the
# deployment's environment (MIP_DATABASE_URL, Airflow's configuration, MIP_SANDBOX_URL). "{python}",
# "{root}" and "{workdir}" are replaced by the interpreter, the repository and the harness's work
# directory. The demo supplier catalog (the same drop for both) gives publishing something to send.
SETUP_COMMANDS: list[list[str]] = [
    ["{python}", "-m", "sandbox.catalog", "--out", "{workdir}/supplier", "--count", "1000", "--seed", "1"],
    ["{python}", "-m", "mip.catalog", "--run-id", "distributed_test__catalog"],  # MIP_SUPPLIER_DIR: run_mode
]
WORKERS = 2
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"  # a Redis database number kept for this harness
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432"


def say(message: str) -> None:
    print(f"[distributed-test] {message}", flush=True)


@dataclass
class ModeResult:
    name: str
    seconds: float
    states: dict[tuple[str, str], str]
    tasks: list[TaskRecord]
    pools: dict[str, int]
    tables: dict[str, TableSnapshot] = field(default_factory=dict)


def demo_dag_ids(pipelines: tuple[str, ...], topology_file: Path) -> dict[str, str]:
    """dag_id -> pipeline, for the pipelines that apply to the topology's channels: a pipeline module with
    ``ROLES`` builds one DAG per channel of those roles, one whose ``build`` takes only the topology builds
    the single ``mip_<pipeline>`` (per-account pipelines are not run here)."""
    import inspect
    import pkgutil
    from importlib import import_module

    from mip.airflow import factories
    from mip.airflow import pipelines as pipeline_modules
    from mip.config import load_topology

    topology = load_topology(topology_file)
    known = sorted(m.name for m in pkgutil.iter_modules(pipeline_modules.__path__))
    dags = {}
    for pipeline in pipelines:
        if pipeline not in known:
            raise SystemExit(f"unknown pipeline {pipeline!r}; known: {known}")
        module = import_module(f"mip.airflow.pipelines.{pipeline}")
        roles = getattr(module, "ROLES", None)
        if roles is None:
            if len(inspect.signature(module.build).parameters) != 1:
                raise SystemExit(f"pipeline {pipeline!r} builds one DAG per account: not run here")
            dags[f"mip_{pipeline}"] = pipeline
            continue
        for channel in topology.channels:
            if channel.role in roles:
                dags[factories.dag_id(pipeline, channel.id)] = pipeline
    return dict(sorted(dags.items()))


def database_server() -> str:
    """Like the test suite: MIP_TEST_DATABASE_URL, else the local PostgreSQL, else the embedded one."""
    from mip.store import embedded
    from mip.store.server import base_url, reachable

    configured = os.environ.get("MIP_TEST_DATABASE_URL")
    if configured and configured != "embedded":
        return base_url(configured)
    if not configured and reachable(LOCAL_SERVER):
        return LOCAL_SERVER
    return base_url(embedded.ensure_running(ROOT / ".local" / "test-postgres"))


class Resources:
    """What the harness creates outside its processes: databases, Redis keys, a work directory."""

    def __init__(self, server: str, redis_url: str, prefix: str, workdir: Path) -> None:
        self.server, self.redis_url, self.prefix, self.workdir = server, redis_url, prefix, workdir
        self.databases: list[str] = []

    def database(self, suffix: str, template: str | None = None) -> str:
        import psycopg
        from psycopg import sql

        name = f"{self.prefix}_{suffix}"
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
        self.databases.append(name)
        return name

    def url(self, name: str) -> str:
        return f"{self.server}/{name}"

    def check_redis(self) -> None:
        import redis

        try:
            redis.Redis.from_url(self.redis_url).ping()
        except redis.RedisError as exc:
            raise SystemExit(f"Redis at {self.redis_url} does not answer ({exc}); set MIP_DIST_REDIS_URL") from None

    def clean_redis(self) -> int:
        """Delete this run's queue keys and bindings; other users of the Redis database are left alone."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        removed = 0
        for key in client.scan_iter(f"*{self.prefix}*"):
            removed += client.delete(key)
        for key in client.scan_iter("_kombu.binding.*"):
            for member in client.smembers(key):
                if self.prefix.encode() in member:
                    removed += client.srem(key, member)
        return removed

    def cleanup(self, keep_files: bool) -> None:
        from mip.store.server import drop_database

        for name in reversed(self.databases):
            drop_database(self.server, name)
        with contextlib.suppress(Exception):
            self.clean_redis()
        if not keep_files:
            shutil.rmtree(self.workdir, ignore_errors=True)


def migrate_airflow(resources: Resources, workdir: Path) -> str:
    """Airflow's metadata schema, once; the deployments get copies (CREATE DATABASE ... TEMPLATE)."""
    name = resources.database("airflow_template")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(workdir / "migrate-home"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=psycopg2_url(resources.url(name)),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return name


def psycopg2_url(url: str) -> str:
    return "postgresql+psycopg2://" + url.partition("://")[2]


@contextlib.contextmanager
def sandbox_for(mode: str, workdir: Path, enabled: bool):
    """A fresh SP-API sandbox (same seed for every mode) when it exists; yields its URL or None."""
    if not enabled:
        yield None
        return
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    from sandbox.testing import run_sandbox

    state = workdir / f"sandbox-{mode}"
    state.mkdir(parents=True, exist_ok=True)
    with run_sandbox(state, time_scale=60.0, seed=1, demo=True) as server:
        yield server.base_url


def sandbox_available() -> bool:
    return (ROOT / "sandbox" / "testing.py").exists()


def run_mode(
    config: StackConfig, dags: dict[str, str], run_id: str, logical_date: datetime, sandbox: bool, timeout: float
) -> ModeResult:
    started = time.monotonic()
    with sandbox_for(config.name, config.home.parent, sandbox) as sandbox_url:
        # the drop SETUP_COMMANDS write (the catalog's folder is confined to the configured ones, mip.paths)
        config = replace(
            config, extra_env=(*config.extra_env, ("MIP_SUPPLIER_DIR", str(config.home.parent / "supplier")))
        )
        if sandbox_url:  # connections on 127.0.0.1: allowed only where the deployment says so
            sandbox_env = (("MIP_SANDBOX_URL", sandbox_url), ("AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT", "True"))
            config = replace(config, extra_env=(*config.extra_env, *sandbox_env))
        stack = AirflowStack(config)
        try:
            say(f"{config.name}: mip database, pools, connections (deploy/mip_init.py)")
            init = subprocess.run(
                [sys.executable, str(ROOT / "deploy" / "mip_init.py"), "--skip-channels-deploy"],
                env=stack.env,
                capture_output=True,
                text=True,
            )
            if init.returncode != 0:
                raise SystemExit(f"deploy/mip_init.py failed:\n{init.stdout[-3000:]}\n{init.stderr[-3000:]}")
            for line in init.stdout.splitlines():
                say(f"{config.name}:   {line}")
            for command in SETUP_COMMANDS:
                argv = [arg.format(python=sys.executable, root=ROOT, workdir=config.home.parent) for arg in command]
                setup = subprocess.run(argv, env=stack.env, cwd=ROOT, capture_output=True, text=True)
                if setup.returncode != 0:
                    raise SystemExit(f"{' '.join(argv)} failed:\n{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}")
            workers = f" and {config.workers} Celery workers" if config.workers else ""
            say(f"{config.name}: starting Airflow ({config.executor}{workers}) on port {stack.port}")
            api = stack.start()
            say(f"{config.name}: up after {time.monotonic() - started:.0f}s; waiting for {len(dags)} DAGs")
            api.wait_for_dags(dags, timeout=600)  # fails at once on an import error or a dead process
            for dag_id, pipeline in dags.items():
                api.trigger(dag_id, run_id, logical_date, RUN_CONF.get(pipeline))
            say(f"{config.name}: triggered {len(dags)} runs ({run_id}); waiting")
            states = api.wait_for_runs([(d, run_id) for d in dags], timeout=timeout)
            tasks = [t for d in dags for t in api.task_instances(d, run_id)]
            pools = api.pools()
        finally:
            stack.stop()
    result = ModeResult(config.name, time.monotonic() - started, states, tasks, pools, snapshot(config.mip_url))
    say(f"{config.name}: {len(tasks)} task instances in {result.seconds:.0f}s, processes stopped")
    return result


def check(local: ModeResult, celery: ModeResult, worker_names: list[str], pool_names: list[str]) -> list[str]:
    problems = []
    for result in (local, celery):
        failed = sorted(f"{d} ({s})" for (d, _), s in result.states.items() if s != "success")
        if failed:
            bad = [f"{t.dag_id}.{t.task_id}[{t.map_index}]={t.state}" for t in result.tasks if t.state != "success"]
            problems.append(f"{result.name}: runs not successful: {failed}; task instances: {bad}")
        missing_pools = [p for p in pool_names if p not in result.pools]
        if missing_pools:
            problems.append(f"{result.name}: pools missing: {missing_pools} (have {sorted(result.pools)})")
    hosts = Counter(t.hostname for t in celery.tasks if t.hostname)  # skipped tasks ran on a worker too
    idle = [w for w in worker_names if not hosts.get(w)]
    if idle:
        problems.append(f"celery: workers that ran no task: {idle} (task instances per host: {dict(hosts)})")

    def shape(result: ModeResult) -> Counter:
        return Counter((t.dag_id, t.task_id, t.map_index, t.state) for t in result.tasks)

    if shape(local) != shape(celery):
        problems.append(
            f"task instances differ: only local {sorted((shape(local) - shape(celery)).elements())}, "
            f"only celery {sorted((shape(celery) - shape(local)).elements())}"
        )
    problems += [f"mip tables: {p}" for p in differences(local.tables, celery.tables)]
    if not sum(len(t.rows) for t in local.tables.values()):
        problems.append("mip tables: both runs left every table empty, so the comparison proves nothing")
    return problems


def report(local: ModeResult, celery: ModeResult) -> None:
    for result in (local, celery):
        hosts = Counter(t.hostname for t in result.tasks)
        say(f"{result.name}: {result.seconds:.0f}s, task instances per host: {dict(sorted(hosts.items()))}")
    rows = {name: len(t.rows) for name, t in celery.tables.items() if t.rows}
    say(f"mip rows compared (celery run): {rows}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated pipeline kinds to run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="Celery workers (at least 2)")
    parser.add_argument(
        "--sandbox",
        choices=["auto", "on", "off"],
        default="auto",
        help="start the SP-API sandbox for each deployment (auto: when sandbox/testing.py exists)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="seconds the DAG runs of a deployment may go without any task changing state before the run fails",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) after success")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2: the point is several workers")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks on SIGTERM too
    started = time.monotonic()
    prefix = f"mipdist_{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    topology = workdir / "channels.yaml"
    shutil.copy(ROOT / "include" / "channels.yaml", topology)
    dags = demo_dag_ids(tuple(p for p in args.pipelines.split(",") if p), topology)
    sandbox = args.sandbox == "on" or (args.sandbox == "auto" and sandbox_available())
    now = datetime.now(UTC)
    logical_date = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    run_id = f"distributed_test__{logical_date:%Y%m%dT%H%M}"
    resources = Resources(database_server(), os.environ.get("MIP_DIST_REDIS_URL", DEFAULT_REDIS_URL), prefix, workdir)
    say(f"work directory {workdir}; databases {prefix}_* on {resources.server}; Redis {resources.redis_url}")
    say(f"DAGs: {', '.join(dags)}; sandbox: {'on' if sandbox else 'off'}")
    ok = False
    try:
        resources.check_redis()
        template = migrate_airflow(resources, workdir)
        say(f"Airflow metadata schema migrated after {time.monotonic() - started:.0f}s")
        configs = []
        for name, executor, workers in (("local", "LocalExecutor", 0), ("celery", "CeleryExecutor", args.workers)):
            configs.append(
                StackConfig(
                    name=name,
                    executor=executor,
                    workers=workers,
                    airflow_url=psycopg2_url(resources.url(resources.database(f"airflow_{name}", template))),
                    mip_url=resources.url(resources.database(f"mip_{name}")),
                    topology=topology,
                    home=workdir / name,
                    broker_url=resources.redis_url if workers else None,
                    queue=prefix if workers else None,
                )
            )
        local, celery = (run_mode(c, dags, run_id, logical_date, sandbox, args.timeout) for c in configs)
        report(local, celery)
        from mip.airflow.common import sp_api_pool
        from mip.config import load_topology

        pool_names = [sp_api_pool(a.id) for a in load_topology(topology).accounts]
        workers = [worker_hostname(configs[1], i) for i in range(1, args.workers + 1)]
        problems = check(local, celery, workers, pool_names)
        for problem in problems:
            say(f"FAILED: {problem}")
        ok = not problems
    finally:
        resources.cleanup(keep_files=args.keep or not ok)
        kept = f"logs kept in {workdir}; " if args.keep or not ok else ""
        say(f"{kept}cleaned up; total {time.monotonic() - started:.0f}s")
    say("PASSED: both workers ran tasks and the mip tables equal the LocalExecutor run's" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
