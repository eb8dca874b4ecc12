"""DAG factories: one DAG per channel (or account) and pipeline kind, ids ``mip_<pipeline>__<id>``.

The ``dags/`` files call ``channel_dags`` / ``account_dags``. Parsing reads only the topology file
and its registry snapshot (no database, no network, no heavy imports); when Airflow runs a task,
``get_parsing_context()`` names its DAG and only that DAG is built.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from airflow.sdk import DAG, get_parsing_context

from mip.config import Account, Channel, Topology, load_topology, topology_path
from mip.store import registry

# pipeline -> (roles it runs for, module under mip.airflow.pipelines building it)
CHANNEL_PIPELINES: dict[str, tuple[tuple[str, ...], str]] = {
    "publish": (("main",), "publish"),
    "offers": (("main",), "offers"),
    "verify_international": (("international",), "verify_international"),
    "orders": (("main", "international"), "orders"),
    "migrate_csv": (("main",), "migrate_csv"),
}


# pipeline -> module under mip.airflow.pipelines building the one DAG of the deployment
SINGLE_PIPELINES = {"account_health": "account_health", "catalog_sync": "catalog_sync"}

# pipeline -> module under mip.airflow.pipelines building one DAG per seller account
ACCOUNT_PIPELINES = {"repair": "repair", "order_events": "order_events"}


def dag_id(pipeline: str, channel_id: str) -> str:
    return f"mip_{pipeline}__{channel_id}"


def _checked_topology() -> Topology:
    path = topology_path()
    topology = load_topology(path)
    conflicts = registry.conflicts(topology, registry.read_snapshot(path))
    if conflicts:
        raise registry.RegistryConflict("\n".join(conflicts))
    return topology


def channel_dags(pipeline: str) -> dict[str, DAG]:
    roles, module = CHANNEL_PIPELINES[pipeline]
    build: Callable[[Topology, Channel], DAG] = import_module(f"mip.airflow.pipelines.{module}").build
    topology = _checked_topology()
    wanted = get_parsing_context().dag_id
    dags = {}
    for channel in sorted(topology.channels, key=lambda c: c.id):
        if channel.role not in roles:
            continue
        name = dag_id(pipeline, channel.id)
        if wanted and wanted != name:
            continue
        dags[name] = build(topology, channel)
    return dags


def single_dag(pipeline: str) -> dict[str, DAG]:
    """A deployment-wide DAG (``mip_<pipeline>``), built by ``build(topology)`` of its module."""
    name = f"mip_{pipeline}"
    wanted = get_parsing_context().dag_id
    if wanted and wanted != name:
        return {}
    build: Callable[[Topology], DAG] = import_module(f"mip.airflow.pipelines.{SINGLE_PIPELINES[pipeline]}").build
    return {name: build(_checked_topology())}


def account_dags(pipeline: str) -> dict[str, DAG]:
    """One DAG per seller account (``mip_<pipeline>__<account>``), built by ``build(topology, account)``."""
    build: Callable[[Topology, Account], DAG] = import_module(
        f"mip.airflow.pipelines.{ACCOUNT_PIPELINES[pipeline]}"
    ).build
    topology = _checked_topology()
    wanted = get_parsing_context().dag_id
    dags = {}
    for account in sorted(topology.accounts, key=lambda a: a.id):
        name = dag_id(pipeline, account.id)
        if wanted and wanted != name:
            continue
        dags[name] = build(topology, account)
    return dags
