"""``mip credentials reset``: verify a new authorization, then store it (see mip.airflow.credentials)."""

from __future__ import annotations

from mip.airflow.credentials import read_connection_extra, save_credentials
from mip.airflow.hooks.sp_api import allowed_endpoint
from mip.amazon.budget import RateBudget
from mip.amazon.credentials import AccountCredentials
from mip.amazon.gateway import SpApiGateway
from mip.amazon.health import check_account
from mip.amazon.lwa import ConsentCodeRejected, exchange_consent_code
from mip.config import Topology
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
    database_url: str | None = None,
    source: str = "cli",
) -> str:
    account = topology.account(account_id)
    extra = read_connection_extra(account.connection_id)
    if not extra.get("lwa_client_id") or not extra.get("lwa_client_secret"):
        raise ValueError(f"connection {account.connection_id!r} has no LWA client id/secret; fill them first")
    region = extra.get("region") or account.region
    endpoint = allowed_endpoint(extra.get("endpoint"), region)
    lwa_url = endpoint or f"https://{LWA_HOST}"
    if code:
        try:
            refresh_token = exchange_consent_code(lwa_url, extra["lwa_client_id"], extra["lwa_client_secret"], code)
        except ConsentCodeRejected as exc:
            raise ValueError(str(exc)) from None
    new_seller = seller_id or extra.get("seller_id") or account.seller_id
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
        )
    lines = [
        f"account {account.id}: new authorization stored in connection {account.connection_id} "
        f"(authorized {saved['authorized_at']:%Y-%m-%d}); {len(channels)} channel(s) checked"
    ]
    if saved["old_seller_id"] and saved["old_seller_id"] != new_seller:
        lines.append(
            f"Seller ID switched {saved['old_seller_id']} -> {new_seller} (recorded in mip.account_credentials_history)"
        )
    if new_seller != account.seller_id:
        lines.append(f"now set seller_id: {new_seller} for account {account.id} in the topology")
    lines.append(
        f"the repair DAG mip_repair__{account.id} re-runs the runs that failed while the authorization was invalid"
        if saved["asset_event"]
        else "no DAG listens to the credentials Asset yet; re-run failed runs with `airflow backfill create`"
    )
    return "\n".join(lines)
