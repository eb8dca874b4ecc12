"""Seller accounts: marketplace participations, Build International Listings links, credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.auth import Tokens
from sandbox.spapi.clock import iso
from sandbox.spapi.errors import invalid_input
from sandbox.spapi.state import State


@dataclass
class AccountSpec:
    name: str
    seller_id: str
    region: str
    store_name: str
    login_email: str
    login_password: str
    participating: list[str] = field(default_factory=list)  # countries, isParticipating=true
    not_participating: list[str] = field(default_factory=list)  # countries, isParticipating=false
    bil: list[tuple[str, str, bool]] = field(default_factory=list)  # (source, target, enabled)
    refresh_token: str | None = None


def create_account(state: State, tokens: Tokens, spec: AccountSpec) -> None:
    if state.db.one("SELECT 1 FROM accounts WHERE seller_id = ? OR name = ?", (spec.seller_id, spec.name)):
        raise ValueError(f"an account {spec.name!r} or Seller ID {spec.seller_id!r} already exists")
    for country in spec.participating + spec.not_participating:
        market = marketplaces.by_country(country)
        if market.region != spec.region:
            raise ValueError(f"{country} is in region {market.region}, not in the account's region {spec.region}")
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (spec.seller_id, spec.name, spec.region, spec.store_name, spec.login_email, spec.login_password),
        )
        for country, flag in [(c, 1) for c in spec.participating] + [(c, 0) for c in spec.not_participating]:
            conn.execute(
                "INSERT INTO participations VALUES (?, ?, ?, 0)",
                (spec.seller_id, marketplaces.by_country(country).marketplace_id, flag),
            )
        for source, target, enabled in spec.bil:
            conn.execute(
                "INSERT INTO bil_links VALUES (?, ?, ?, ?)",
                (
                    spec.seller_id,
                    marketplaces.by_country(source).marketplace_id,
                    marketplaces.by_country(target).marketplace_id,
                    int(enabled),
                ),
            )
    tokens.new_refresh_token(spec.seller_id, spec.refresh_token)


def account_row(state: State, seller_id: str):
    row = state.db.one("SELECT * FROM accounts WHERE seller_id = ?", (seller_id,))
    if row is None:
        raise KeyError(f"no sandbox account with Seller ID {seller_id!r}")
    return row


def participations(state: State, seller_id: str) -> dict[str, bool]:
    """marketplace id -> isParticipating, for the marketplaces where the account exists."""
    return {
        r["marketplace_id"]: bool(r["participating"])
        for r in state.db.query(
            "SELECT marketplace_id, participating FROM participations WHERE seller_id = ?", (seller_id,)
        )
    }


def require_marketplaces(state: State, seller_id: str, marketplace_ids: list[str]) -> list[str]:
    """Check that each marketplace id is real and one the seller participates in (400 otherwise)."""
    if not marketplace_ids:
        raise invalid_input("Missing required parameter: marketplaceIds")
    joined = participations(state, seller_id)
    for marketplace_id in marketplace_ids:
        market = marketplaces.BY_ID.get(marketplace_id)
        if market is None:
            raise invalid_input(f"Invalid marketplace identifier: {marketplace_id}")
        if not joined.get(marketplace_id):
            raise invalid_input(
                f"{marketplace_id} ({market.country}) is not a marketplace this seller participates in.",
                f"Seller {seller_id} has no active account in marketplace {marketplace_id} ({market.name}).",
            )
    return marketplace_ids


def set_participation(state: State, seller_id: str, country: str, participating: bool) -> None:
    account = account_row(state, seller_id)
    market = marketplaces.by_country(country)
    if market.region != account["region"]:
        raise ValueError(f"{country} is not in the account's region {account['region']}")
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO participations VALUES (?, ?, ?, 0) ON CONFLICT (seller_id, marketplace_id) "
            "DO UPDATE SET participating = excluded.participating",
            (seller_id, market.marketplace_id, int(participating)),
        )


def set_bil(state: State, seller_id: str, source: str, target: str, enabled: bool) -> None:
    account_row(state, seller_id)
    source_mp = marketplaces.by_country(source).marketplace_id
    target_mp = marketplaces.by_country(target).marketplace_id
    if source_mp == target_mp:
        raise ValueError("a Build International Listings link needs two different marketplaces")
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO bil_links VALUES (?, ?, ?, ?) ON CONFLICT (seller_id, source_mp, target_mp) "
            "DO UPDATE SET enabled = excluded.enabled",
            (seller_id, source_mp, target_mp, int(enabled)),
        )


def bil_targets(state: State, seller_id: str, source_mp: str) -> list[str]:
    return [
        r["target_mp"]
        for r in state.db.query(
            "SELECT target_mp FROM bil_links WHERE seller_id = ? AND source_mp = ? AND enabled = 1",
            (seller_id, source_mp),
        )
    ]


def set_authorized_at(state: State, seller_id: str, authorized_at: float) -> None:
    account_row(state, seller_id)
    with state.db.tx() as conn:
        conn.execute("UPDATE accounts SET authorized_at = ? WHERE seller_id = ?", (authorized_at, seller_id))


def describe_accounts(state: State, tokens: Tokens) -> list[dict[str, Any]]:
    app = state.app
    result = []
    for row in state.db.query("SELECT * FROM accounts ORDER BY rowid"):
        seller_id = row["seller_id"]
        refresh_token, token_status = tokens.current_refresh_token(seller_id)
        joined = participations(state, seller_id)
        links = state.db.query(
            "SELECT source_mp, target_mp, enabled FROM bil_links WHERE seller_id = ? ORDER BY source_mp, target_mp",
            (seller_id,),
        )
        result.append(
            {
                "account": row["name"],
                "seller_id": seller_id,
                "region": row["region"],
                "store_name": row["store_name"],
                "lwa_client_id": app.client_id,
                "lwa_client_secret": app.client_secret,
                "application_id": app.application_id,
                "refresh_token": refresh_token,
                "refresh_token_status": token_status,
                "authorized_at": iso(row["authorized_at"]),
                "marketplaces": [
                    {
                        "country": marketplaces.BY_ID[mp].country,
                        "marketplace_id": mp,
                        "participating": flag,
                    }
                    for mp, flag in sorted(joined.items(), key=lambda item: marketplaces.BY_ID[item[0]].country)
                ],
                "bil": [
                    {
                        "source": marketplaces.BY_ID[link["source_mp"]].country,
                        "target": marketplaces.BY_ID[link["target_mp"]].country,
                        "enabled": bool(link["enabled"]),
                    }
                    for link in links
                ],
                "login_email": row["login_email"],
                "login_password": row["login_password"],
            }
        )
    return result
