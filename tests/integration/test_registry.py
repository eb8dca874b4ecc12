"""Channel registry immutability and the `mip` command line, on a real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mip.config import parse_topology
from mip.store import registry

DEMO = """
accounts:
  - {id: acme, seller_id: A1B2C3D4E5F6G7, region: eu, connection_id: c}
channels:
  - {id: it, account: acme, country: IT, role: main}
  - {id: de, account: acme, country: DE, role: main}
  - {id: fr, account: acme, country: FR, role: international, linked_main: it}
"""
FR_LINKED_TO_DE = DEMO.replace("linked_main: it}", "linked_main: de}")


@pytest.fixture
def empty_registry(db):
    """An empty registry; emptied again afterwards (these tests register other topologies)."""
    db.execute("TRUNCATE mip.channel_registry, mip.channel_registry_audit")
    db.commit()
    yield db
    db.rollback()
    db.execute("TRUNCATE mip.channel_registry, mip.channel_registry_audit")
    db.commit()


def mip_cli(*args: str, env_file=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mip.cli", *args], capture_output=True, text=True)


def test_deploy_records_then_refuses_a_changed_link_until_reassigned(empty_registry):
    db = empty_registry
    assert registry.deploy(db, parse_topology(DEMO, "t.yaml")) == ["it", "de", "fr"]
    assert registry.deploy(db, parse_topology(DEMO, "t.yaml")) == []

    changed = parse_topology(FR_LINKED_TO_DE, "t.yaml")
    with pytest.raises(registry.RegistryConflict) as refused:
        registry.deploy(db, changed)
    message = str(refused.value)
    assert "channel 'fr' was deployed as international linked to it" in message
    assert "mip channels reassign fr --role international --link de" in message

    with pytest.raises(ValueError, match="reason is required"):
        registry.reassign(db, changed, "fr", "international", "de", " ")
    registry.reassign(db, changed, "fr", "international", "de", "Spain shop moved under DE")
    registry.check(db, changed)
    audit = db.execute(
        "SELECT action, old_link, new_link, reason FROM mip.channel_registry_audit WHERE channel_id = 'fr' ORDER BY id"
    ).fetchall()
    assert audit == [
        ("register", None, "it", "first deployment"),
        ("reassign", "it", "de", "Spain shop moved under DE"),
    ]


def test_reassign_refuses_values_the_topology_does_not_hold(empty_registry):
    topology = parse_topology(DEMO, "t.yaml")
    registry.deploy(empty_registry, topology)
    with pytest.raises(ValueError, match="edit the topology to the new role and link first"):
        registry.reassign(empty_registry, topology, "fr", "international", "de", "why")


def test_cli_validate_deploy_and_reassign(empty_registry, tmp_path):
    empty_registry.commit()
    topology = tmp_path / "channels.yaml"
    topology.write_text(DEMO)
    ok = mip_cli("channels", "validate", str(topology))
    assert ok.returncode == 0, ok.stderr
    assert "3 channel(s), main: it, de" in ok.stdout

    deployed = mip_cli("channels", "deploy", str(topology))
    assert deployed.returncode == 0, deployed.stderr
    snapshot = json.loads((tmp_path / "channels.registry.json").read_text())
    assert {"channel_id": "fr", "role": "international", "linked_main": "it"} in snapshot

    topology.write_text(FR_LINKED_TO_DE)
    refused = mip_cli("channels", "validate", str(topology))
    assert refused.returncode == 1 and "mip channels reassign fr" in refused.stderr
    refused_db = mip_cli("channels", "validate", "--registry", str(topology))
    assert refused_db.returncode == 1 and "was deployed as international linked to it" in refused_db.stderr

    reassigned = mip_cli(
        "channels",
        "reassign",
        "fr",
        "--role",
        "international",
        "--link",
        "de",
        "--reason",
        "test",
        "--topology",
        str(topology),
    )
    assert reassigned.returncode == 0, reassigned.stderr
    assert mip_cli("channels", "validate", "--registry", str(topology)).returncode == 0


def test_cli_validate_reports_every_problem_with_exit_1(tmp_path):
    topology = tmp_path / "bad.yaml"
    topology.write_text(DEMO.replace("country: DE", "country: XX").replace("A1B2C3D4E5F6G7", "nope"))
    result = mip_cli("channels", "validate", str(topology))
    assert result.returncode == 1
    assert "2 problem(s)" in result.stderr
    assert f"{topology}: channels[1] (id 'de').country" in result.stderr
    assert f"{topology}: accounts[0] (id 'acme')" in result.stderr
