"""From the Connect forms to what the page does: authorize a declared channel, refuse, or show YAML."""

from __future__ import annotations

import yaml

from mip.airflow.page import resolve
from mip.config import parse_topology

TOPOLOGY = """
accounts:
  - {id: demo, seller_id: A1MIPDEMOSELLER, region: eu, connection_id: amazon_sp_api_demo}
  - {id: other, seller_id: A2MIPOTHERSELLER, region: eu, connection_id: amazon_sp_api_other}
channels:
  - {id: it, account: demo, country: IT, role: main}
  - {id: de, account: demo, country: DE, role: main}
  - {id: fr, account: demo, country: FR, role: international, linked_main: it}
  - {id: fr_other, account: other, country: FR, role: international, linked_main: it}
"""
TOPOLOGY_FILE = "channels.yaml"


def topology():
    return parse_topology(TOPOLOGY, TOPOLOGY_FILE)


def main(seller: str, country: str):
    return resolve.resolve_main(topology(), TOPOLOGY, TOPOLOGY_FILE, seller, country)


def international(seller: str, country: str, link: str):
    return resolve.resolve_international(topology(), TOPOLOGY, TOPOLOGY_FILE, seller, country, link)


def test_a_declared_main_channel_is_authorized_for_its_account():
    result = main(" a1mipdemoseller ", "it")
    assert isinstance(result, resolve.Authorize)
    assert (result.account.id, result.channel.id, result.seller_id) == ("demo", "it", "A1MIPDEMOSELLER")


def test_an_international_channel_with_its_own_seller_id_is_authorized_for_its_account():
    result = international("A2MIPOTHERSELLER", "FR", "it")
    assert isinstance(result, resolve.Authorize)
    assert (result.account.id, result.channel.id) == ("other", "fr_other")


def test_role_and_link_are_not_changed_from_the_page():
    as_main = main("A1MIPDEMOSELLER", "FR")
    assert isinstance(as_main, resolve.Refused)
    assert "international, linked to it" in as_main.message and "mip channels reassign" in as_main.message
    relinked = international("A1MIPDEMOSELLER", "FR", "de")
    assert isinstance(relinked, resolve.Refused) and "mip channels reassign" in relinked.message


def test_a_channel_missing_from_the_topology_gets_a_validated_snippet():
    result = international("A9NEWSELLER01", "PL", "de")
    assert isinstance(result, resolve.NeedsTopology)
    assert result.problems == []
    added = yaml.safe_load(result.snippet)
    assert added["accounts"] == [
        {
            "id": "acct_a9newseller01",
            "seller_id": "A9NEWSELLER01",
            "region": "eu",
            "connection_id": "amazon_sp_api_acct_a9newseller01",
        }
    ]
    assert added["channels"] == [
        {"id": "pl", "account": "acct_a9newseller01", "country": "PL", "role": "international", "linked_main": "de"}
    ]
    # the snippet, added to the topology, is accepted
    raw = yaml.safe_load(TOPOLOGY)
    raw["accounts"] += added["accounts"]
    raw["channels"] += added["channels"]
    parse_topology(yaml.safe_dump(raw), TOPOLOGY_FILE)


def test_a_snippet_the_rules_refuse_lists_the_problem():
    result = main("A1MIPDEMOSELLER", "GB")
    assert isinstance(result, resolve.NeedsTopology)
    assert "channels:\n  - id: gb\n    account: demo\n    country: GB\n    role: main" in result.snippet
    assert "accounts:" not in result.snippet  # the account exists
    assert any("3 main channels" in p and "at most 2" in p for p in result.problems)


def test_a_taken_channel_id_gets_a_suffix():
    result = international("A9NEWSELLER01", "FR", "it")
    assert isinstance(result, resolve.NeedsTopology) and result.problems == []
    assert "id: fr_acct_a9newseller01" in result.snippet


def test_bad_inputs_are_refused_with_the_fix():
    assert "Merchant Token" in main("demo", "IT").message
    assert "not an Amazon marketplace country" in main("A1MIPDEMOSELLER", "XX").message
    assert "not a main channel" in international("A1MIPDEMOSELLER", "ES", "fr").message
    assert "already sells in IT" in international("A1MIPDEMOSELLER", "IT", "it").message
