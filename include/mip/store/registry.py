"""The channel registry: a channel's role and link are fixed at its first deployment.

``mip.channel_registry`` is the truth. A topology whose role or link differs from the registry is
refused until ``mip channels reassign`` changes the registry deliberately and writes
``channel_registry_audit``.

DAG files may not touch the database while Airflow parses them, so ``deploy`` and ``reassign`` also
write a snapshot of the registry next to the topology (``<topology>.registry.json``): DAG generation
compares against that snapshot, every pipeline run compares against the database itself.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mip.config import Channel, Topology

if TYPE_CHECKING:  # DAG generation imports this module: psycopg stays out of parse time
    import psycopg


@dataclass(frozen=True)
class RegisteredChannel:
    channel_id: str
    role: str
    linked_main: str | None


class RegistryConflict(ValueError):
    """The topology changes a registered channel's role or link."""


def snapshot_path(topology_file: Path) -> Path:
    return topology_file.with_name(topology_file.stem + ".registry.json")


def actor() -> str:
    return os.environ.get("MIP_ACTOR") or getpass.getuser()


def _shape(role: str, link: str | None) -> str:
    return role if link is None else f"{role} linked to {link}"


def conflict_message(channel: Channel, registered: RegisteredChannel) -> str:
    link_flag = f" --link {channel.linked_main}" if channel.linked_main else ""
    return (
        f"channel {channel.id!r} was deployed as {_shape(registered.role, registered.linked_main)} but the "
        f"topology now says {_shape(channel.role, channel.linked_main)}; a channel's role and link are fixed once "
        "deployed. Restore the topology, or change it deliberately with: "
        f"mip channels reassign {channel.id} --role {channel.role}{link_flag} --reason '...'"
    )


def conflicts(topology: Topology, registered: dict[str, RegisteredChannel]) -> list[str]:
    messages = []
    for channel in topology.channels:
        known = registered.get(channel.id)
        if known and (known.role, known.linked_main) != (channel.role, channel.linked_main):
            messages.append(conflict_message(channel, known))
    return messages


def read(conn: psycopg.Connection) -> dict[str, RegisteredChannel]:
    rows = conn.execute("SELECT channel_id, role, linked_main FROM mip.channel_registry").fetchall()
    return {r[0]: RegisteredChannel(*r) for r in rows}


def read_snapshot(topology_file: Path) -> dict[str, RegisteredChannel]:
    path = snapshot_path(topology_file)
    if not path.exists():
        return {}
    return {c["channel_id"]: RegisteredChannel(**c) for c in json.loads(path.read_text())}


def write_snapshot(conn: psycopg.Connection, topology_file: Path) -> None:
    channels = sorted(read(conn).values(), key=lambda c: c.channel_id)
    snapshot_path(topology_file).write_text(json.dumps([asdict(c) for c in channels], indent=2) + "\n")


def check(conn: psycopg.Connection, topology: Topology, channel_ids: list[str] | None = None) -> None:
    """Raise RegistryConflict when the topology changes a registered channel (of ``channel_ids``)."""
    registered = read(conn)
    if channel_ids is not None:
        registered = {k: v for k, v in registered.items() if k in channel_ids}
    messages = conflicts(topology, registered)
    if messages:
        raise RegistryConflict("\n".join(messages))


def deploy(conn: psycopg.Connection, topology: Topology, channel_ids: list[str] | None = None) -> list[str]:
    """Register the topology's new channels (or those of ``channel_ids``); refuse if it changes
    registered ones. Returns the ids it registered."""
    with conn.transaction():
        conn.execute("LOCK TABLE mip.channel_registry IN SHARE ROW EXCLUSIVE MODE")
        check(conn, topology, channel_ids)
        registered = read(conn)
        added = []
        for channel in topology.channels:
            if channel.id in registered or (channel_ids is not None and channel.id not in channel_ids):
                continue
            conn.execute(
                "INSERT INTO mip.channel_registry (channel_id, account_id, country, marketplace_id, role, linked_main)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    channel.id,
                    channel.account,
                    channel.country,
                    channel.marketplace.marketplace_id,
                    channel.role,
                    channel.linked_main,
                ),
            )
            conn.execute(
                "INSERT INTO mip.channel_registry_audit (channel_id, action, new_role, new_link, reason, actor)"
                " VALUES (%s, 'register', %s, %s, 'first deployment', %s)",
                (channel.id, channel.role, channel.linked_main, actor()),
            )
            added.append(channel.id)
    return added


def reassign(
    conn: psycopg.Connection, topology: Topology, channel_id: str, role: str, link: str | None, reason: str
) -> RegisteredChannel:
    """Change a registered channel's role/link on purpose; audited. The topology must already agree."""
    if not reason.strip():
        raise ValueError("--reason is required: say why the channel's role or link changes")
    if role == "main" and link:
        raise ValueError("a main channel has no --link")
    if role == "international" and not link:
        raise ValueError("an international channel needs --link MAIN_CHANNEL")
    channel = topology.channel(channel_id)
    if (channel.role, channel.linked_main) != (role, link):
        raise ValueError(
            f"the topology says channel {channel_id!r} is {_shape(channel.role, channel.linked_main)}; edit the "
            "topology to the new role and link first, then reassign with the same values"
        )
    with conn.transaction():
        row = conn.execute(
            "SELECT role, linked_main FROM mip.channel_registry WHERE channel_id = %s FOR UPDATE", (channel_id,)
        ).fetchone()
        if row is None:
            raise ValueError(f"channel {channel_id!r} is not registered yet; `mip channels deploy` registers it")
        conn.execute(
            "UPDATE mip.channel_registry SET role = %s, linked_main = %s, changed_at = now() WHERE channel_id = %s",
            (role, link, channel_id),
        )
        conn.execute(
            "INSERT INTO mip.channel_registry_audit"
            " (channel_id, action, old_role, new_role, old_link, new_link, reason, actor)"
            " VALUES (%s, 'reassign', %s, %s, %s, %s, %s, %s)",
            (channel_id, row[0], role, row[1], link, reason, actor()),
        )
    return RegisteredChannel(channel_id, role, link)
