"""Parsing ``dags/`` needs no database, no network and no heavy library.

The DAG files are imported in a fresh interpreter whose databases cannot be reached (Airflow's metadata
database is a SQLite file in a folder that does not exist, ``mip``'s a closed port). An audit hook records
every socket the interpreter creates or connects; afterwards no pandas, great_expectations, sp_api or
psycopg module may be loaded: the scheduler's DAG processor parses these files every 30 seconds.

One socket is expected and allowed: urllib3's import-time IPv6 probe (``urllib3.util.connection``
binds a socket to ``('::1', 0)`` and closes it; nothing is sent). urllib3 comes in with botocore when a DAG
declares an ``Asset``: Airflow asks every provider for its asset URI handlers, and the Amazon provider's
(installed for the order events' SQS queue) imports botocore.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.dags.test_dagbag import DEMO_CHANNEL_DAGS, DEPLOYMENT_DAGS

HEAVY = ("pandas", "great_expectations", "sp_api", "psycopg")  # psycopg also matches psycopg2
UNREACHABLE_POSTGRES = "postgresql://mip@127.0.0.1:9/mip"  # the discard port: nothing listens

PROBE = r"""
import importlib.util, json, pathlib, sys

sockets = []


def audit(event, args):
    if event.startswith("socket."):
        sockets.append([event, repr(args)[:200]])


sys.addaudithook(audit)
dag_ids = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(f"dag_file_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    dag_ids += [value.dag_id for value in vars(module).values() if isinstance(value, DAG)]
heavy = sorted(name for name in sys.modules if name.startswith(tuple(sys.argv[2].split(","))))
print(json.dumps({"dag_ids": dag_ids, "heavy": heavy, "sockets": sockets}))
"""


def test_dag_files_parse_without_database_network_or_heavy_imports(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'missing' / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_MIP_POSTGRES": UNREACHABLE_POSTGRES,
        "MIP_DATABASE_URL": UNREACHABLE_POSTGRES,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dags"), ",".join(HEAVY)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found["dag_ids"]) >= DEMO_CHANNEL_DAGS | DEPLOYMENT_DAGS
    assert found["heavy"] == [], f"parsing dags/ imported {found['heavy'][:10]}"
    used = [s for s in found["sockets"] if not _ipv6_probe(s)]
    assert used == [], f"parsing dags/ used sockets: {used[:5]}"


def _ipv6_probe(event: list[str]) -> bool:
    """urllib3's ``HAS_IPV6`` check: an AF_INET6 socket created, then bound to ('::1', 0)."""
    name, args = event
    if name == "socket.__new__":
        return ", 10, 1, 0)" in args  # AF_INET6, SOCK_STREAM
    return name == "socket.bind" and args.endswith("('::1', 0))")
