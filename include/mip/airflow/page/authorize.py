"""The consent round trip: the URL we send the seller to, and what the callback does with the answer.

Callback order matters: the Seller ID Amazon reports is compared with the one entered *before* the
code is exchanged (a browser still signed in to Seller Central as another seller is the usual cause,
hence the private-window advice); the new authorization is checked (token refresh, marketplace
participations, each channel's marketplace and Seller ID, as ``mip credentials reset`` does) and
only then stored, so a failed attempt never replaces working credentials. An account with ``order_events``
in the topology is then subscribed to its queue (``mip.airflow.subscribe``, as ``mip notifications subscribe``
does); a failed subscription is reported under the success, never undoing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from mip.airflow.page import connections
from mip.airflow.page.state import Authorization
from mip.amazon.health import WARN_AFTER_DAYS
from mip.config import Account, Topology
from mip.marketplaces import LWA_HOST, MARKETPLACES

log = logging.getLogger(__name__)
SOURCE = "marketplaces-page"
# A web request waits for these calls: a few quick retries, not the pipelines' 15 minutes.
CALLBACK_RETRIES: dict[str, Any] = {
    "max_attempts": 3,
    "base_delay": 0.5,
    "max_delay": 4.0,
    "max_elapsed": 30.0,
    "timeout": 20.0,
}


def application_id(info: connections.ConnectionInfo) -> str | None:
    """The SP-API application id (``amzn1.sp.solution...``): the connection's, else ``[mip] sp_api_application_id``."""
    from airflow.configuration import conf

    return info.field("application_id") or conf.get("mip", "sp_api_application_id", fallback="") or None


def consent_url(info: connections.ConnectionInfo, country: str, app_id: str, state: str, redirect_uri: str) -> str:
    """Seller Central's consent page of the country (or the endpoint override's, i.e. the sandbox's);
    ``EndpointRefused`` when the connection's endpoint is not allowed."""
    endpoint = info.allowed_endpoint(MARKETPLACES[country].region)
    base = f"{endpoint}/apps/authorize/consent" if endpoint else MARKETPLACES[country].consent_url
    # version=beta: needed while the application is a draft (not yet published in the Appstore).
    return (
        base
        + "?"
        + urlencode({"application_id": app_id, "state": state, "version": "beta", "redirect_uri": redirect_uri})
    )


@dataclass
class Outcome:
    ok: bool
    title: str
    message: str
    error_code: str | None = None
    details: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what went wrong after a success (shown under it)
    problems_title: str = ""


def wrong_seller(auth: Authorization, returned: str) -> Outcome:
    return Outcome(
        False,
        "Amazon authorized another seller",
        (
            f"Amazon returned Seller ID {returned}, but you entered {auth.seller_id} for account {auth.account_id}. "
            "Nothing was stored."
        ),
        "wrong_seller_id",
        [
            f"Most often the browser is still signed in to Seller Central as {returned}: Amazon then authorizes that "
            "account without asking. Open Multi-Channel > Marketplaces in a private (incognito) window, or sign out of "
            f"Seller Central first, sign in as the seller {auth.seller_id} and connect again.",
            f"If {returned} is the account you meant, check the Merchant Token (Seller Central > Settings > Account "
            f"Info) and use 'Switch account' on account {auth.account_id} with Seller ID {returned}.",
        ],
    )


def complete(auth: Authorization, topology: Topology, *, selling_partner_id: str, code: str, actor: str) -> Outcome:
    """Exchange the code, check the new authorization, store it (then subscribe the account's order events);
    the Outcome says what happened and what to do."""
    try:
        account = topology.account(auth.account_id)
    except KeyError:
        return Outcome(
            False,
            "Account not in the topology",
            f"account {auth.account_id} is no longer declared in the topology; nothing was stored",
            "unknown_account",
        )
    if selling_partner_id != auth.seller_id:
        return wrong_seller(auth, selling_partner_id)

    info = connections.read(account.connection_id)
    if not info.has_app_credentials:
        return Outcome(
            False,
            "No application credentials",
            f"connection {account.connection_id} has no LWA client id/secret; nothing was stored",
            "no_app_credentials",
        )
    from mip.amazon.endpoints import EndpointRefused
    from mip.amazon.lwa import ConsentCodeRejected, exchange_consent_code

    try:
        endpoint = info.allowed_endpoint(account.region)
    except EndpointRefused as exc:
        return Outcome(False, "Endpoint refused", f"{exc}; nothing was stored", "endpoint_refused")
    lwa_url = endpoint or f"https://{LWA_HOST}"
    try:
        refresh_token = exchange_consent_code(
            lwa_url, info.field("lwa_client_id"), info.field("lwa_client_secret"), code
        )
    except ConsentCodeRejected as exc:
        return Outcome(False, "Amazon refused the consent code", str(exc), "code_rejected")

    report_or_error = _check(account, topology, info, endpoint, refresh_token, auth.seller_id)
    if isinstance(report_or_error, Outcome):
        return report_or_error
    report = report_or_error
    if report.problems:
        return Outcome(
            False,
            _TITLES.get(report.error_code or "", "The new authorization does not work"),
            f"Amazon authorized Seller ID {auth.seller_id}, but the checks failed, so nothing was stored:",
            report.error_code or "check_failed",
            list(report.problems),
        )
    outcome = _store(auth, account, topology, info, refresh_token, actor)
    if outcome.ok and account.order_events is not None:
        _subscribe_order_events(topology, account, outcome)
    return outcome


_TITLES = {
    "account_not_authorized": "The seller account is not authorized to sell",
    "marketplace_not_participating": "Country not created on Amazon",
    "seller_id_mismatch": "Wrong Seller ID",
    "application_credentials_invalid": "Application credentials refused",
    "credentials_invalid": "Authorization refused",
}


def _check(
    account,
    topology: Topology,
    info: connections.ConnectionInfo,
    endpoint: str | None,
    refresh_token: str,
    seller_id: str,
):
    from mip.airflow.db import mip_autocommit_connection
    from mip.amazon.budget import RateBudget
    from mip.amazon.credentials import AccountCredentials
    from mip.amazon.errors import AmazonError
    from mip.amazon.gateway import RetryPolicy, SpApiGateway
    from mip.amazon.health import check_account

    candidate = AccountCredentials(
        account_id=account.id,
        seller_id=seller_id,
        region=info.field("region") or account.region,
        lwa_client_id=info.field("lwa_client_id"),
        lwa_client_secret=info.field("lwa_client_secret"),
        refresh_token=refresh_token,
        endpoint=endpoint,
    )
    channels = [c for c in topology.channels if c.account == account.id]
    budget_conn = mip_autocommit_connection()
    try:
        gateway = SpApiGateway(candidate, RateBudget(budget_conn, seller_id), RetryPolicy(**CALLBACK_RETRIES))
        return check_account(gateway, account.model_copy(update={"seller_id": seller_id}), channels)
    except AmazonError as exc:  # only retryable ones get here (throttled, unavailable)
        return Outcome(
            False, "Amazon did not answer", f"{exc} Nothing was stored; connect again in a few minutes.", exc.code
        )
    finally:
        budget_conn.close()


def _store(
    auth: Authorization, account, topology: Topology, info: connections.ConnectionInfo, refresh_token: str, actor: str
) -> Outcome:
    from mip.airflow.credentials import ConnectionNotWritable, save_credentials
    from mip.airflow.db import mip_db

    try:
        with mip_db() as conn:
            saved = save_credentials(
                conn,
                account.id,
                account.connection_id,
                refresh_token=refresh_token,
                seller_id=auth.seller_id,
                source=SOURCE,
                actor=actor,
                base_extra=info.extra,
            )
    except ConnectionNotWritable as exc:
        return Outcome(
            False,
            "Connection not writable",
            f"the authorization works but could not be stored: {exc}",
            "connection_not_writable",
        )
    channels = [c for c in topology.channels if c.account == account.id]
    advised = (saved["authorized_at"] + timedelta(days=WARN_AFTER_DAYS)).date()
    details = [
        f"Checked: the token refresh, the marketplace participations and the Seller ID of "
        f"{', '.join(f'{c.id} ({c.country})' for c in channels)}.",
        f"Authorizations expire after 365 days; re-authorize every quarter (next by {advised:%Y-%m-%d}).",
    ]
    if saved["old_seller_id"] and saved["old_seller_id"] != auth.seller_id:
        details.append(
            f"Seller ID switched {saved['old_seller_id']} -> {auth.seller_id} (history kept in "
            "mip.account_credentials_history; orders stay under their channels, each with the Seller ID it was "
            f"read with). The hours before the switch stay {saved['old_seller_id']}'s, read only with its "
            "authorization (kept); if it no longer works, they stay failed until it authorizes again "
            f"(mip credentials reset {account.id} --previous-seller {saved['old_seller_id']} ...)."
        )
    if auth.seller_id != account.seller_id:
        details.append(f"Now set seller_id: {auth.seller_id} for account {account.id} in the topology.")
    if auth.purpose == "international" and auth.channel_id:
        channel = topology.channel(auth.channel_id)
        main = topology.channel(channel.linked_main) if channel.linked_main else None
        source = f"{main.country} ({main.id})" if main else "the main channel's country"
        details.append(
            f"Products appear in {channel.country} only once Build International Listings is configured "
            f"on Amazon: Seller Central > Pricing > Build International Listings, source {source}, target "
            f"{channel.country}. mip_verify_international__{channel.id} reports the offers not copied yet."
        )
    if saved["asset_event"]:
        details.append(
            f"An event of the credentials Asset mip://accounts/{account.id}/credentials was recorded: the "
            f"repair DAG mip_repair__{account.id} re-runs what failed while the account was not valid."
        )
    else:
        details.append(
            f"No DAG uses the credentials Asset mip://accounts/{account.id}/credentials yet, so no event "
            "was recorded; re-run runs that failed meanwhile with `airflow backfill create`."
        )
    what = {"reset": "Credentials reset", "switch": "Account switched"}.get(auth.purpose, "Connected")
    return Outcome(
        True,
        what,
        f"Account {account.id} is authorized as Seller ID {auth.seller_id} and stored in "
        f"connection {account.connection_id}.",
        None,
        details,
    )


def _subscribe_order_events(topology: Topology, account: Account, outcome: Outcome) -> None:
    """Once the credentials are stored: the account's ORDER_CHANGE subscription to the queue of its topology
    entry (never a form's), as ``mip notifications subscribe`` makes it. A failure leaves the connect done;
    ``outcome`` says so and what to do, and the api-server's log has the traceback."""
    from mip.airflow.db import mip_db
    from mip.airflow.subscribe import subscribe_account
    from mip.amazon.gateway import RetryPolicy

    try:
        with mip_db() as conn:
            done = subscribe_account(conn, topology, account, RetryPolicy(**CALLBACK_RETRIES))
    except Exception as exc:  # the credentials are stored: a failure here must not undo the connect
        log.exception("subscribing account %s to its order events after the connect failed", account.id)
        outcome.error_code = "order_events_not_subscribed"
        outcome.problems_title = "Order events are not on (the hourly import still brings the orders):"
        outcome.problems = _not_subscribed(account.id, exc)
        return
    outcome.details.append(
        f"Order events on: Amazon sends Seller ID {done['seller_id']}'s ORDER_CHANGE notifications to "
        f"{done['queue_arn']} (subscription {done['subscription_id']}); unpause mip_order_events__{account.id} "
        "to import them within minutes."
    )


def _not_subscribed(account_id: str, exc: Exception) -> list[str]:
    from mip.airflow.subscribe import NotSubscribable

    if isinstance(exc, NotSubscribable):
        return [
            f"{exc}.",
            f"Correct order_events of account {account_id} in the topology, then run "
            f"`mip notifications subscribe {account_id}` (or connect the account again).",
        ]
    return [
        f"{type(exc).__name__}: {exc}",
        f"Run `mip notifications subscribe {account_id}` once that is mended (or connect the account again); "
        "the api-server's log has the details.",
    ]
