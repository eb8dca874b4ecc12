"""DAG factories: one DAG per channel (or account) and pipeline kind, ids ``mip_<pipeline>__<id>``.

Each ``dags/`` file imports its pipeline's ``build`` (and, per channel, the ``ROLES`` it runs for) and hands
them to ``channel_dags`` / ``single_dag`` / ``account_dags``: go-to-definition leads from a DAG file to its
code. Parsing reads only the topology file and its registry snapshot (no database, no network, no heavy
imports); when Airflow runs a task, ``get_parsing_context()`` names its DAG and only that DAG is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from airflow.sdk import DAG, get_parsing_context

from mip.config import Account, Channel, Topology, load_topology, topology_path
from mip.store import registry


def dag_id(pipeline: str, channel_id: str) -> str:
    return f"mip_{pipeline}__{channel_id}"


def _checked_topology() -> Topology:
    path = topology_path()
    topology = load_topology(path)
    conflicts = registry.conflicts(topology, registry.read_snapshot(path))
    if conflicts:
        raise registry.RegistryConflict("\n".join(conflicts))
    return topology


def _wanted(name: str) -> bool:
    """Whether to build DAG ``name``: always at parse time, only the running task's DAG in a task."""
    wanted = get_parsing_context().dag_id
    return not wanted or wanted == name


def channel_dags(pipeline: str, build: Callable[[Topology, Channel], DAG], roles: Iterable[str]) -> dict[str, DAG]:
    """One DAG per channel whose role is in ``roles`` (``mip_<pipeline>__<channel>``), built by ``build``."""
    roles = tuple(roles)
    topology = _checked_topology()
    return {
        dag_id(pipeline, channel.id): build(topology, channel)
        for channel in sorted(topology.channels, key=lambda c: c.id)
        if channel.role in roles and _wanted(dag_id(pipeline, channel.id))
    }


def single_dag(pipeline: str, build: Callable[[Topology], DAG]) -> dict[str, DAG]:
    """A deployment-wide DAG (``mip_<pipeline>``), built by ``build(topology)``."""
    name = f"mip_{pipeline}"
    return {name: build(_checked_topology())} if _wanted(name) else {}


def account_dags(pipeline: str, build: Callable[[Topology, Account], DAG]) -> dict[str, DAG]:
    """One DAG per seller account (``mip_<pipeline>__<account>``), built by ``build(topology, account)``."""
    topology = _checked_topology()
    return {
        dag_id(pipeline, account.id): build(topology, account)
        for account in sorted(topology.accounts, key=lambda a: a.id)
        if _wanted(dag_id(pipeline, account.id))
    }
