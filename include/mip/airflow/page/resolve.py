"""From "connect Seller ID X in country C" to what the page does about it.

Channels live in the topology (``include/channels.yaml``) and their role and link are fixed once
deployed, so the page never creates or changes a channel. It connects (authorizes) the *account* of a
channel the topology declares; for a channel the topology lacks it shows the exact YAML to add,
validated with mip.config against the current topology (so the snippet is known to be accepted, or
the page lists the rule it breaks, e.g. the maximum number of main channels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from mip.config import SELLER_ID_PATTERN, Account, Channel, Topology, TopologyError, parse_topology
from mip.marketplaces import MARKETPLACES, normalise_country


@dataclass(frozen=True)
class Authorize:
    """Send the user to Amazon's consent for this account (the channel's)."""

    account: Account
    channel: Channel
    seller_id: str


@dataclass(frozen=True)
class Refused:
    message: str


@dataclass(frozen=True)
class NeedsTopology:
    """The channel is not declared: the YAML to add and whether the topology would accept it."""

    intro: str
    snippet: str
    problems: list[str] = field(default_factory=list)


Resolution = Authorize | Refused | NeedsTopology

REASSIGN_HINT = (
    "a channel's role and link are fixed once deployed; change them deliberately with "
    "`mip channels reassign CHANNEL --role ROLE [--link MAIN] --reason '...'` after editing the topology"
)


def check_inputs(seller_id: str, country: str) -> tuple[str, str] | Refused:
    seller_id, country = seller_id.strip().upper(), normalise_country(country or "")
    if not SELLER_ID_PATTERN.match(seller_id):
        return Refused(
            f"Seller ID {seller_id!r} is not plausible (8-20 uppercase letters and digits): copy the "
            "Merchant Token from Seller Central > Settings > Account Info > Your Merchant Token"
        )
    if country not in MARKETPLACES:
        known = ", ".join(sorted(MARKETPLACES))
        return Refused(f"{country!r} is not an Amazon marketplace country; use one of {known}")
    return seller_id, country


def _shape(channel: Channel) -> str:
    return "main" if channel.role == "main" else f"international, linked to {channel.linked_main}"


def resolve_main(topology: Topology, text: str, file: str, seller_id: str, country: str) -> Resolution:
    checked = check_inputs(seller_id, country)
    if isinstance(checked, Refused):
        return checked
    seller_id, country = checked
    for channel in topology.channels:
        account = topology.account_of(channel)
        if channel.country == country and account.seller_id == seller_id:
            if channel.role != "main":
                return Refused(
                    f"channel {channel.id} ({country}, Seller ID {seller_id}) is declared "
                    f"{_shape(channel)}, not main: {REASSIGN_HINT}. To authorize its account as it is, "
                    "use its Connect button in the channels table"
                )
            return Authorize(account, channel, seller_id)
    return _snippet(topology, text, file, seller_id, country, "main", None)


def resolve_international(
    topology: Topology, text: str, file: str, seller_id: str, country: str, linked_main: str
) -> Resolution:
    checked = check_inputs(seller_id, country)
    if isinstance(checked, Refused):
        return checked
    seller_id, country = checked
    mains = {c.id: c for c in topology.main_channels}
    if linked_main not in mains:
        return Refused(f"{linked_main!r} is not a main channel of the topology; choose one of {', '.join(mains)}")
    if mains[linked_main].country == country:
        return Refused(
            f"the main channel {linked_main} already sells in {country}; an International Listing channel "
            "is another country, whose offers Amazon copies from the main channel's marketplace"
        )
    for channel in topology.channels:
        account = topology.account_of(channel)
        if channel.country == country and account.seller_id == seller_id:
            if (channel.role, channel.linked_main) != ("international", linked_main):
                return Refused(
                    f"channel {channel.id} ({country}, Seller ID {seller_id}) is declared "
                    f"{_shape(channel)}, not international linked to {linked_main}: {REASSIGN_HINT}"
                )
            return Authorize(account, channel, seller_id)
    return _snippet(topology, text, file, seller_id, country, "international", linked_main)


def _free_id(base: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", base.lower())[:31]
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    return candidate


def _snippet(
    topology: Topology, text: str, file: str, seller_id: str, country: str, role: str, linked_main: str | None
) -> NeedsTopology:
    region = MARKETPLACES[country].region
    account = next((a for a in topology.accounts if a.seller_id == seller_id), None)
    new_account = None
    if account is None:
        account_id = _free_id(f"acct_{seller_id}", {a.id for a in topology.accounts})
        new_account = {
            "id": account_id,
            "seller_id": seller_id,
            "region": region,
            "connection_id": f"amazon_sp_api_{account_id}",
        }
    else:
        account_id = account.id
    channel_ids = {c.id for c in topology.channels}
    base = country.lower() if country.lower() not in channel_ids else f"{country.lower()}_{account_id}"
    new_channel: dict = {"id": _free_id(base, channel_ids), "account": account_id, "country": country, "role": role}
    if linked_main:
        new_channel["linked_main"] = linked_main

    raw = yaml.safe_load(text) or {}
    raw.setdefault("accounts", [])
    raw.setdefault("channels", [])
    if new_account:
        raw["accounts"].append(new_account)
    raw["channels"].append(new_channel)
    try:
        parse_topology(yaml.safe_dump(raw, sort_keys=False), file)
        problems: list[str] = []
    except TopologyError as exc:
        problems = [str(p) for p in exc.problems]

    parts = []
    if new_account:
        parts.append("accounts:\n" + _indent(yaml.safe_dump([new_account], sort_keys=False)))
    parts.append("channels:\n" + _indent(yaml.safe_dump([new_channel], sort_keys=False)))
    what = "main channel" if role == "main" else f"International Listing channel linked to {linked_main}"
    owner = f"account {account_id}" if account else f"a new account {account_id} (Seller ID {seller_id})"
    intro = (
        f"The topology ({file}) has no {country} channel for Seller ID {seller_id}. Channels are declared in the "
        f"topology, not here: add this {what} of {owner} to the lists of the same name, run "
        "`mip channels validate` and `mip channels deploy`, then connect it from this page."
    )
    return NeedsTopology(intro, "\n".join(parts), problems)


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
