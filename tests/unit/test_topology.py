"""Every topology rule, each with a failing case whose error names the file, the entry and the fix."""

from __future__ import annotations

import textwrap

import pytest

from mip.config import TopologyError, load_topology, parse_topology

FILE = "channels.yaml"
ACCOUNT = """
accounts:
  - {id: acme, seller_id: A1B2C3D4E5F6G7, region: eu, connection_id: amazon_sp_api_acme}
"""


def topology(channels: str, extra: str = "", accounts: str = ACCOUNT) -> str:
    return (
        textwrap.dedent(extra)
        + textwrap.dedent(accounts)
        + "channels:\n"
        + textwrap.indent(textwrap.dedent(channels).strip() + "\n", "  ")
    )


def problems(text: str) -> list[str]:
    with pytest.raises(TopologyError) as caught:
        parse_topology(text, FILE)
    messages = [str(p) for p in caught.value.problems]
    for message in messages:
        assert message.startswith(f"{FILE}: ") and "Fix: " in message
    return messages


def test_shipped_demo_topology_is_valid():
    demo = load_topology()
    assert [(c.id, c.role, c.linked_main) for c in demo.channels] == [
        ("it", "main", None),
        ("de", "main", None),
        ("fr", "international", "it"),
        ("es", "international", "it"),
    ]
    assert demo.channel("it").marketplace.marketplace_id == "APJ6JRA9NG5V4"


def test_valid_topology_with_international_channel_of_another_account():
    text = topology(
        """
        - {id: it, account: acme, country: IT, role: main}
        - {id: fr, account: other, country: FR, role: international, linked_main: it}
        """,
        accounts=ACCOUNT + "  - {id: other, seller_id: AZZZZ9999YYYY, region: eu, connection_id: c_other}\n",
    )
    parsed = parse_topology(text, FILE)
    assert parsed.channel("fr").account == "other"


def test_at_most_two_main_channels_by_default():
    (message,) = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: de, account: acme, country: DE, role: main}
            - {id: fr, account: acme, country: FR, role: main}
            """
        )
    )
    assert "3 main channels (it, de, fr) but at most 2" in message
    assert "role: international" in message


def test_max_main_channels_is_a_setting():
    text = topology(
        """
        - {id: it, account: acme, country: IT, role: main}
        - {id: de, account: acme, country: DE, role: main}
        """,
        extra="settings:\n  max_main_channels: 1\n",
    )
    (message,) = problems(text)
    assert "at most 1" in message


def test_international_channel_needs_an_existing_main_channel():
    (missing,) = problems(topology("- {id: fr, account: acme, country: FR, role: international}"))
    assert "channels[0] (id 'fr')" in missing and "needs linked_main" in missing
    messages = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: fr, account: acme, country: FR, role: international, linked_main: es}
            """
        )
    )
    assert any("linked_main 'es' is not a main channel" in m and "(it)" in m for m in messages)


def test_international_channel_cannot_link_to_another_international_channel():
    messages = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: fr, account: acme, country: FR, role: international, linked_main: it}
            - {id: es, account: acme, country: ES, role: international, linked_main: fr}
            """
        )
    )
    assert any("channels[2] (id 'es')" in m and "'fr' is not a main channel" in m for m in messages)


def test_main_channel_cannot_have_a_link():
    (message,) = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: de, account: acme, country: DE, role: main, linked_main: it}
            """
        )
    )
    assert "a main channel cannot link" in message


def test_one_channel_per_account_and_marketplace():
    (message,) = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: it2, account: acme, country: it, role: main}
            """
        )
    )
    assert "channels[1] (id 'it2')" in message and "already has channel 'it' for marketplace IT" in message


def test_country_must_be_an_sp_api_marketplace():
    (message,) = problems(topology("- {id: xx, account: acme, country: CH, role: main}"))
    assert "channels[0] (id 'xx').country" in message and "'CH' is not an SP-API marketplace" in message


def test_uk_is_an_alias_of_gb():
    parsed = parse_topology(topology("- {id: uk, account: acme, country: UK, role: main}"), FILE)
    assert parsed.channel("uk").marketplace.marketplace_id == "A1F83G8C2ARO7P"


@pytest.mark.parametrize("seller_id", ["", "a1b2c3d4e5", "A1B2-C3D4", "SHORT"])
def test_seller_id_must_be_plausible(seller_id):
    accounts = f"\naccounts:\n  - {{id: acme, seller_id: '{seller_id}', region: eu, connection_id: c}}\n"
    (message,) = problems(topology("- {id: it, account: acme, country: IT, role: main}", accounts=accounts))
    assert "accounts[0] (id 'acme')" in message and "not a plausible Amazon Seller ID" in message
    assert "Merchant Token" in message


def test_channel_account_must_be_declared():
    (message,) = problems(topology("- {id: it, account: nobody, country: IT, role: main}"))
    assert "account 'nobody' is not declared" in message


def test_channel_marketplace_must_be_in_the_account_region():
    (message,) = problems(topology("- {id: us, account: acme, country: US, role: main}"))
    assert "region 'na'" in message and "account 'acme' is in region 'eu'" in message


def test_unknown_fields_and_duplicate_ids_are_refused():
    messages = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main, colour: red}
            - {id: it, account: acme, country: DE, role: main}
            """
        )
    )
    assert any("channels[0] (id 'it').colour" in m and "Extra inputs are not permitted" in m for m in messages)


def test_duplicate_channel_ids_are_refused():
    messages = problems(
        topology(
            """
            - {id: it, account: acme, country: IT, role: main}
            - {id: it, account: acme, country: DE, role: main}
            """
        )
    )
    assert any("channel id 'it' is used twice" in m for m in messages)


def test_role_must_be_main_or_international():
    (message,) = problems(topology("- {id: it, account: acme, country: IT, role: primary}"))
    assert "channels[0] (id 'it').role" in message and "'main' or 'international'" in message


def test_yaml_syntax_error_names_the_line():
    (message,) = problems("accounts: [\nchannels: {")
    assert message.startswith(f"{FILE}: line ")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(TopologyError) as caught:
        load_topology(tmp_path / "nope.yaml")
    assert "nope.yaml: (file): file not found" in str(caught.value)
