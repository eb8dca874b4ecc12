"""``mip credentials reset``: verify a new authorization, then store it (see mip.airflow.credentials).

With ``previous_seller`` the authorization is that of a Seller ID the account had before a switch:
it is stored beside the account's (which keeps its current seller) so the repair can import the
hours that seller owns and could not be read (a one-off backfill).
"""

from __future__ import annotations

from typing import Any

from mip.airflow.credentials import read_connection_extra, save_credentials
from mip.airflow.hooks.sp_api import allowed_endpoint, previous_seller_connection_id
from mip.amazon.budget import RateBudget
from mip.amazon.credentials import AccountCredentials
from mip.amazon.gateway import SpApiGateway
from mip.amazon.health import check_account
from mip.amazon.lwa import ConsentCodeRejected, exchange_consent_code
from mip.config import Account, Topology
from mip.marketplaces import LWA_HOST
from mip.store import registry
from mip.store.db import connect


def reset_credentials(
    topology: Topology,
    account_id: str,
    *,
    code: str | None,
    refresh_token: str | None,
    seller_id: str | None,
    previous_seller: str | None = None,
    database_url: str | None = None,
    source: str = "cli",
) -> str:
    account = topology.account(account_id)
    if previous_seller and seller_id:
        raise ValueError(
            "give --seller-id (switch the account) or --previous-seller (re-authorize an old one), not both"
        )
    extra = read_connection_extra(account.connection_id)
    if not extra.get("lwa_client_id") or not extra.get("lwa_client_secret"):
        raise ValueError(f"connection {account.connection_id!r} has no LWA client id/secret; fill them first")
    region = extra.get("region") or account.region
    endpoint = allowed_endpoint(extra.get("endpoint"), region)
    lwa_url = endpoint or f"https://{LWA_HOST}"
    if previous_seller:
        _check_previous_seller(account.id, previous_seller, extra.get("seller_id"), database_url)
    if code:
        try:
            refresh_token = exchange_consent_code(lwa_url, extra["lwa_client_id"], extra["lwa_client_secret"], code)
        except ConsentCodeRejected as exc:
            raise ValueError(str(exc)) from None
    new_seller = previous_seller or seller_id or extra.get("seller_id") or account.seller_id
    candidate = AccountCredentials(
        account_id=account.id,
        seller_id=new_seller,
        region=region,
        lwa_client_id=extra["lwa_client_id"],
        lwa_client_secret=extra["lwa_client_secret"],
        refresh_token=refresh_token or "",
        endpoint=endpoint,
    )
    channels = [c for c in topology.channels if c.account == account.id]
    with connect(database_url) as conn, connect(database_url, autocommit=True) as budget_conn:
        gateway = SpApiGateway(candidate, RateBudget(budget_conn, new_seller))
        expected = account.model_copy(update={"seller_id": new_seller})
        report = check_account(gateway, expected, channels)
        if report.problems:  # the candidate has no authorization date, so these are real failures
            raise RuntimeError("the new authorization does not work, nothing was stored:\n" + report.message)
        saved = save_credentials(
            conn,
            account.id,
            account.connection_id,
            refresh_token=candidate.refresh_token,
            seller_id=new_seller,
            source=source,
            actor=registry.actor(),
            base_extra=extra,
            previous_seller=bool(previous_seller),
        )
    if previous_seller:
        return (
            f"account {account.id}: authorization of its previous Seller ID {previous_seller} stored in connection "
            f"{saved['connection_id']} (the account still reads for {extra.get('seller_id')}); "
            + (
                f"mip_repair__{account.id} now imports the hours {previous_seller} owns"
                if saved["asset_event"]
                else f"trigger mip_repair__{account.id} to import the hours {previous_seller} owns"
            )
        )
    return _reset_summary(account, saved, new_seller, len(channels))


def _reset_summary(account: Account, saved: dict[str, Any], new_seller: str, channels: int) -> str:
    """What ``mip credentials reset`` stored and what happens next, one line per fact."""
    lines = [
        f"account {account.id}: new authorization stored in connection {account.connection_id} "
        f"(authorized {saved['authorized_at']:%Y-%m-%d}); {channels} channel(s) checked"
    ]
    if saved["old_seller_id"] and saved["old_seller_id"] != new_seller:
        old = saved["old_seller_id"]
        lines.append(
            f"Seller ID switched {old} -> {new_seller} (recorded in mip.account_credentials_history); the orders of "
            f"the hours before the switch stay {old}'s and are read only with its authorization, kept in connection "
            f"{previous_seller_connection_id(account.connection_id, old)}"
        )
    if new_seller != account.seller_id:
        lines.append(f"now set seller_id: {new_seller} for account {account.id} in the topology")
    lines.append(
        f"the repair DAG mip_repair__{account.id} re-runs the runs that failed while the authorization was invalid"
        if saved["asset_event"]
        else "no DAG listens to the credentials Asset yet; re-run failed runs with `airflow backfill create`"
    )
    return "\n".join(lines)


def _check_previous_seller(account_id: str, seller_id: str, current: str | None, database_url: str | None) -> None:
    if seller_id == current:
        raise ValueError(f"{seller_id} is account {account_id}'s current Seller ID: reset it without --previous-seller")
    with connect(database_url) as conn:
        known = conn.execute(
            "SELECT 1 FROM mip.account_credentials_history WHERE account_id = %s AND old_seller_id = %s LIMIT 1",
            (account_id, seller_id),
        ).fetchone()
    if not known:
        raise ValueError(
            f"{seller_id} was never a Seller ID of account {account_id} (no switch away from it in "
            "mip.account_credentials_history)"
        )
