"""The deployment's channel topology (``include/channels.yaml``): model, rules and loading.

A topology names seller accounts and channels. A channel is one Amazon marketplace of one account;
at most ``settings.max_main_channels`` channels are ``main`` (MIP publishes to them) and every other
channel is ``international``, linked to a main channel whose offers Amazon copies there (Build
International Listings). Every rule failure names the file, the entry and the fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mip.command_errors import UserError
from mip.marketplaces import MARKETPLACES, Marketplace, marketplace_for, normalise_country
from mip.settings.base import DEFAULT_LANGUAGE, RuleViolation
from mip.settings.publish import LANGUAGE_PATTERN, PublishSettings

DEFAULT_TOPOLOGY = Path(__file__).resolve().parents[1] / "channels.yaml"
SELLER_ID_PATTERN = re.compile(r"^[A-Z0-9]{8,20}$")
CHANNEL_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def topology_path() -> Path:
    """``MIP_CHANNELS_FILE`` when set, else the shipped ``include/channels.yaml``."""
    return Path(os.environ.get("MIP_CHANNELS_FILE") or DEFAULT_TOPOLOGY)


GENERIC_FIX = "see the topology section of the README for the accepted fields and values"


def _check_id(value: str) -> str:
    if not CHANNEL_ID_PATTERN.match(value):
        raise RuleViolation(
            f"id {value!r} must be lowercase letters, digits and '_', starting with a letter (at most 31)",
            "rename the entry",
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(Strict):
    max_main_channels: int = Field(default=2, ge=1)


class CatalogSettings(Strict):
    """The supplier's catalog, deployment-wide (one supplier feeds every channel)."""

    # Every product needs a name in this language (``name_<language>``); a main channel publishes in its
    # marketplace's language (or publish.language), then publish.fallback_languages, then this one.
    language: str = DEFAULT_LANGUAGE

    @field_validator("language")
    @classmethod
    def _language_key(cls, value: str) -> str:
        if not LANGUAGE_PATTERN.match(value):
            raise RuleViolation(
                f"language {value!r} is not a catalog language key",
                "use the two-letter key of the supplier's name_<language> columns, e.g. it, de, fr, es, en",
            )
        return value


class OrderEventsSettings(Strict):
    """Amazon's ORDER_CHANGE notifications through an SQS queue (docs/order-events.md)."""

    queue_url: str  # confined by mip.orders.queue (Amazon SQS, or a sandbox queue where allowed)
    aws_conn_id: str = "mip_aws"  # the Airflow ``aws`` connection: credentials (and endpoint for a sandbox)


class Account(Strict):
    id: str
    seller_id: str
    region: Literal["na", "eu", "fe"]
    connection_id: str
    order_events: OrderEventsSettings | None = None  # None: orders are imported by the hourly runs only

    _id_shape = field_validator("id")(_check_id)

    @field_validator("seller_id")
    @classmethod
    def _plausible_seller_id(cls, value: str) -> str:
        if not SELLER_ID_PATTERN.match(value):
            raise RuleViolation(
                f"seller_id {value!r} is not a plausible Amazon Seller ID (8-20 uppercase letters and digits)",
                "copy the Merchant Token from Seller Central > Settings > Account Info > Your Merchant Token",
            )
        return value


class OrderSettings(Strict):
    # Evenly spaced cron: a run imports the period ending at its logical date (mip.schedule).
    schedule: str = "@hourly"
    # How a run reads its window: "cheaper" estimates both paths from the first getOrders page
    # (mip.orders.cost); "api" always pages getOrders + getOrderItems; "report" always uses the report.
    path: Literal["cheaper", "api", "report"] = "cheaper"
    # Amazon's usual processing time of an orders report, in minutes (the report path's cost)
    report_minutes: float = Field(default=10, ge=0)

    @field_validator("schedule")
    @classmethod
    def _evenly_spaced(cls, value: str) -> str:
        from mip.schedule import ScheduleError, schedule_period

        try:
            schedule_period(value)
        except ScheduleError as exc:
            raise RuleViolation(str(exc), "choose an evenly spaced cron for orders.schedule") from None
        return value


class Channel(Strict):
    id: str
    account: str
    country: str
    role: Literal["main", "international"]
    linked_main: str | None = None
    orders: OrderSettings = OrderSettings()
    # Main channels: what to publish and at which price (mip.settings.publish); None = not published.
    publish: PublishSettings | None = None

    _id_shape = field_validator("id")(_check_id)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        code = normalise_country(value)
        if code not in MARKETPLACES:
            raise RuleViolation(
                f"{value!r} is not an SP-API marketplace country",
                f"use one of {', '.join(sorted(MARKETPLACES))} (Amazon's marketplace country codes)",
            )
        return code

    @property
    def marketplace(self) -> Marketplace:
        return marketplace_for(self.country)


class Topology(Strict):
    settings: Settings = Settings()
    catalog: CatalogSettings = CatalogSettings()
    accounts: tuple[Account, ...]
    channels: tuple[Channel, ...]

    def channel(self, channel_id: str) -> Channel:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(f"no channel {channel_id!r} in the topology")

    def account(self, account_id: str) -> Account:
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(f"no account {account_id!r} in the topology")

    def account_of(self, channel: Channel) -> Account:
        return self.account(channel.account)

    @property
    def main_channels(self) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if c.role == "main")

    @property
    def international_channels(self) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if c.role == "international")


@dataclass(frozen=True)
class TopologyProblem:
    file: str
    entry: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.problem}. Fix: {self.fix}"


class TopologyError(ValueError, UserError):
    fix = "correct the topology file (mip channels validate lists every problem)"

    def __init__(self, problems: list[TopologyProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _entry_name(raw: dict, loc: tuple) -> str:
    """``channels[2] (id 'fr').country`` from a pydantic error location."""
    parts: list[str] = []
    node: object = raw
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            try:
                node = node[key]  # type: ignore[index]
                if isinstance(node, dict) and "id" in node:
                    label += f" (id {node['id']!r})"
            except (IndexError, KeyError, TypeError):
                pass
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _channel_entry(index: int, channel: Channel) -> str:
    return f"channels[{index}] (id {channel.id!r})"


def check_rules(topology: Topology, file: str) -> list[TopologyProblem]:
    """The cross-entry rules pydantic cannot express on one field."""
    problems: list[TopologyProblem] = []

    def add(entry: str, problem: str, fix: str) -> None:
        problems.append(TopologyProblem(file, entry, problem, fix))

    account_ids = [a.id for a in topology.accounts]
    for index, account in enumerate(topology.accounts):
        entry = f"accounts[{index}] (id {account.id!r})"
        if account_ids.count(account.id) > 1:
            add(entry, f"account id {account.id!r} is used twice", "give every account its own id")

    channel_ids = [c.id for c in topology.channels]
    mains = {c.id: c for c in topology.main_channels}
    seen_marketplaces: dict[tuple[str, str], str] = {}
    for index, channel in enumerate(topology.channels):
        entry = _channel_entry(index, channel)
        if channel_ids.count(channel.id) > 1:
            add(entry, f"channel id {channel.id!r} is used twice", "give every channel its own id")
        if channel.account not in account_ids:
            add(
                entry,
                f"account {channel.account!r} is not declared",
                f"use one of the accounts ({', '.join(account_ids) or 'none declared'}) or declare it",
            )
        else:
            account = topology.account(channel.account)
            if channel.marketplace.region != account.region:
                add(
                    entry,
                    f"country {channel.country} is in region {channel.marketplace.region!r} but account "
                    f"{account.id!r} is in region {account.region!r}",
                    "use an account of the marketplace's region (one SP-API authorization covers one region)",
                )
        key = (channel.account, channel.marketplace.marketplace_id)
        if key in seen_marketplaces:
            add(
                entry,
                f"account {channel.account!r} already has channel {seen_marketplaces[key]!r} "
                f"for marketplace {channel.country}",
                "keep one channel per account and marketplace",
            )
        seen_marketplaces.setdefault(key, channel.id)
        if channel.role == "main" and channel.linked_main is not None:
            add(
                entry,
                "a main channel cannot link to another channel",
                "remove linked_main, or make the channel role: international",
            )
        if channel.role == "international":
            if channel.linked_main is None:
                add(
                    entry,
                    "an international channel needs linked_main",
                    f"set linked_main to one of the main channels ({', '.join(mains) or 'none declared'})",
                )
            elif channel.linked_main not in mains:
                add(
                    entry,
                    f"linked_main {channel.linked_main!r} is not a main channel",
                    f"set linked_main to one of the main channels ({', '.join(mains) or 'none declared'})",
                )

    limit = topology.settings.max_main_channels
    if len(mains) > limit:
        add(
            "channels",
            f"{len(mains)} main channels ({', '.join(mains)}) but at most {limit} are allowed",
            "make the others role: international with linked_main set to a main channel "
            "(or raise settings.max_main_channels)",
        )
    return problems


def parse_topology(text: str, file: str) -> Topology:
    """Parse and validate a topology; raises TopologyError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown position)"
        raise TopologyError([TopologyProblem(file, where, f"not valid YAML ({exc})", "fix the YAML syntax")]) from None
    if not isinstance(raw, dict):
        raise TopologyError(
            [TopologyProblem(file, "(top level)", "expected a mapping", "start from include/channels.yaml")]
        )
    try:
        topology = Topology.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            rule = err.get("ctx", {}).get("error")
            problem, fix = (rule.problem, rule.fix) if isinstance(rule, RuleViolation) else (err["msg"], GENERIC_FIX)
            problems.append(TopologyProblem(file, _entry_name(raw, tuple(err["loc"])), problem, fix))
        raise TopologyError(problems) from None
    problems = check_rules(topology, file)
    if problems:
        raise TopologyError(problems)
    return topology


def load_topology(path: str | Path | None = None) -> Topology:
    path = Path(path) if path else topology_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopologyError(
            [TopologyProblem(str(path), "(file)", "file not found", "create it from include/channels.yaml")]
        ) from None
    return _parse_cached(text, str(path))


@lru_cache(maxsize=8)
def _parse_cached(text: str, file: str) -> Topology:
    return parse_topology(text, file)
