"""What the Marketplaces page does, apart from HTTP: start a consent, finish it, save app credentials.

Each step raises ``PageError`` with the notice to show when it refuses; ``app`` turns that into a page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mip.airflow.page import auth, resolve
from mip.airflow.page import state as states

log = logging.getLogger(__name__)


@dataclass
class Notice:
    kind: str  # ok | error | info
    title: str
    message: str = ""
    details: list[str] = field(default_factory=list)
    snippet: str | None = None
    problems: list[str] = field(default_factory=list)
    code: str | None = None
    problems_title: str = "The topology would refuse it as it is:"


class PageError(Exception):
    """Shown as the notice of the page (a refused request), with an HTTP status."""

    def __init__(self, notice: Notice, status: int = 400):
        super().__init__(notice.title)
        self.notice, self.status = notice, status


@cache
def signing_key() -> bytes:
    from airflow.configuration import conf

    return states.derive_key(conf.get("api", "secret_key", fallback=""))


def load() -> tuple[Any, str, str]:
    """(topology, its text, its path): read on every request, so an edited topology shows at once."""
    from mip.config import load_topology, topology_path

    path = topology_path()
    return load_topology(path), path.read_text(encoding="utf-8"), str(path)


def outcome_notice(user: Any, nonce: str) -> Notice | None:
    from mip.airflow.db import mip_db

    with mip_db() as conn:
        row = states.outcome_of(conn, nonce, auth.user_name(user))
    if row is None:
        return None
    shown = json.loads(row["message"])
    return Notice(
        "ok" if row["outcome"] == "connected" else "error",
        shown["title"],
        shown["message"],
        shown["details"],
        problems=shown.get("problems", []),  # rows recorded before subscriptions on connect have none
        problems_title=shown.get("problems_title") or Notice.problems_title,
        code=row["error_code"],
    )


def require_edit(user: Any, conn_id: str) -> None:
    if not auth.can_edit_connection(user, conn_id):
        raise PageError(
            Notice(
                "error",
                "Not allowed",
                f"Connecting or resetting an account needs permission to edit "
                f"its connection ({conn_id}); ask an Airflow admin.",
            ),
            403,
        )


# --- starting a consent -----------------------------------------------------------------------------------------
def target(form: dict[str, str]) -> tuple[Any, Any, str, str, str]:
    """(account, channel or None, expected Seller ID, country, purpose) of a connect form; PageError otherwise."""
    from mip.airflow.page import connections

    topology, text, file = load()
    action = form.get("action", "")
    if action in ("reset", "switch"):
        try:
            account = topology.account(form.get("account_id", ""))
        except KeyError as exc:
            raise PageError(Notice("error", "Unknown account", str(exc))) from None
        channels = [c for c in topology.channels if c.account == account.id]
        country = channels[0].country if channels else {"na": "US", "eu": "GB", "fe": "JP"}[account.region]
        if action == "switch":
            checked = resolve.check_inputs(form.get("seller_id", ""), country)
            if isinstance(checked, resolve.Refused):
                raise PageError(Notice("error", "Cannot switch", checked.message))
            seller_id = checked[0]
        else:
            seller_id = connections.read(account.connection_id).seller_id or account.seller_id
        return account, None, seller_id, country, action
    if action == "main":
        result = resolve.resolve_main(topology, text, file, form.get("seller_id", ""), form.get("country", ""))
    elif action == "international":
        result = resolve.resolve_international(
            topology, text, file, form.get("seller_id", ""), form.get("country", ""), form.get("linked_main", "")
        )
    else:
        raise PageError(Notice("error", "Unknown action", f"{action!r} is not a Marketplaces action"))
    if isinstance(result, resolve.Refused):
        raise PageError(Notice("error", "Cannot connect this channel", result.message, code="refused"))
    if isinstance(result, resolve.NeedsTopology):
        accepted = (
            []
            if result.problems
            else [
                "Checked with mip.config: the topology with these entries passes every rule of `mip channels validate`."
            ]
        )
        raise PageError(
            Notice(
                "info",
                "Add the channel to the topology first",
                result.intro,
                accepted,
                snippet=result.snippet,
                problems=result.problems,
                code="needs_topology",
            ),
            200,
        )
    purpose = "connect" if result.channel.role == "main" else "international"
    return result.account, result.channel, result.seller_id, result.channel.country, purpose


def start_consent(user: Any, form: dict[str, str], callback_url: str) -> str:
    from mip.airflow.db import mip_db
    from mip.airflow.page import connections
    from mip.airflow.page.authorize import application_id, consent_url
    from mip.amazon.endpoints import EndpointRefused

    account, channel, seller_id, country, purpose = target(form)
    require_edit(user, account.connection_id)
    info = connections.read(account.connection_id)
    app_id = application_id(info)
    if not info.has_app_credentials or not app_id:
        missing = "LWA client id and secret" if not info.has_app_credentials else "SP-API application id"
        raise PageError(
            Notice(
                "error",
                "Application credentials missing",
                (
                    f"Account {account.id}'s connection {account.connection_id} has no {missing}. Fill them under "
                    "'Set up the application's credentials' in the account's row (docs/accounts.md), then connect "
                    "again."
                ),
                code="no_app_credentials",
            )
        )
    try:  # before a state is issued: the consent URL and the code exchange go to this endpoint
        info.allowed_endpoint(account.region)
    except EndpointRefused as exc:
        raise PageError(Notice("error", "Endpoint refused", str(exc), code="endpoint_refused")) from None
    with mip_db() as conn:
        state = states.issue(
            conn,
            signing_key(),
            purpose=purpose,
            account_id=account.id,
            channel_id=channel.id if channel else None,
            seller_id=seller_id,
            country=country,
            user_name=auth.user_name(user),
        )
    return consent_url(info, country, app_id, state, callback_url)


def save_app_credentials(user: Any, account_id: str, form: dict[str, str]) -> Notice:
    from mip.airflow.page import connections

    topology, _, _ = load()
    try:
        account = topology.account(account_id)
    except KeyError as exc:
        raise PageError(Notice("error", "Unknown account", str(exc))) from None
    require_edit(user, account.connection_id)
    names = (*connections.APP_FIELDS, "endpoint")
    values = {name: form.get(name, "").strip() for name in names}
    if source_id := form.get("copy_from", ""):
        try:
            source = topology.account(source_id)
        except KeyError as exc:
            raise PageError(Notice("error", "Unknown account", str(exc))) from None
        if not auth.can_edit_connection(user, source.connection_id, method="GET"):
            raise PageError(
                Notice(
                    "error", "Not allowed", f"reading connection {source.connection_id} is not allowed for your role"
                ),
                403,
            )
        found = connections.read(source.connection_id)
        values = {name: str(found.field(name) or "") for name in names}
    current = connections.read(account.connection_id)
    values["endpoint"] = _checked_endpoint(values["endpoint"], account, current)
    merged = {name: values[name] or str(current.field(name) or "") for name in names}  # blank keeps the value
    if not merged["lwa_client_id"] or not merged["lwa_client_secret"]:
        raise PageError(Notice("error", "Incomplete", "the LWA client id and secret are both required"))
    try:
        connections.save_app_credentials(
            account.connection_id,
            region=account.region,
            values=values,
            description=f"Seller account {account.id} (MIP)",
        )
    except connections.NotWritable as exc:
        raise PageError(Notice("error", "Connection not writable", str(exc))) from None
    from mip.airflow.page.authorize import application_id

    details = (
        []
        if application_id(connections.read(account.connection_id))
        else [
            "The SP-API application id (amzn1.sp.solution...) is still missing: the consent URL needs it. "
            "Fill it here, or set [mip] sp_api_application_id (AIRFLOW__MIP__SP_API_APPLICATION_ID) for every account."
        ]
    )
    return Notice(
        "ok",
        "Application credentials saved",
        f"Connection {account.connection_id} holds the application's credentials; now connect the account.",
        details,
    )


def _checked_endpoint(given: str, account: Any, current: Any) -> str:
    """The form's endpoint ('' keeps the stored one): refused unless allowed (``allowed_endpoint``), and never a
    change for an account that already has application credentials (they would be sent to the new host)."""
    from mip.airflow.hooks.sp_api import allowed_endpoint
    from mip.amazon.endpoints import EndpointRefused

    if not given:
        return ""
    try:
        endpoint = allowed_endpoint(given, account.region) or ""
    except EndpointRefused as exc:
        raise PageError(Notice("error", "Endpoint refused", str(exc), code="endpoint_refused")) from None
    try:
        stored = allowed_endpoint(current.endpoint, account.region) or ""
    except EndpointRefused:
        stored = current.endpoint or ""
    if current.has_app_credentials and endpoint != stored:
        raise PageError(
            Notice(
                "error",
                "Endpoint not changed",
                f"Account {account.id} already has application credentials: its endpoint "
                f"({stored or 'Amazon'}) cannot be changed here. An Airflow admin changes it in Admin > Connections "
                f"({account.connection_id}).",
                code="endpoint_locked",
            )
        )
    return endpoint


# --- the callback -----------------------------------------------------------------------------------------------
def _consumed_authorization(user: Any, params: dict[str, str]) -> states.Authorization:
    """The pending authorization the callback's state names, used up; PageError for a missing or refused state
    (a refusal is recorded on the authorization row when the state names one)."""
    from mip.airflow.db import mip_db

    if not params.get("state"):
        log.warning("consent callback without a state refused (user %s)", auth.user_name(user))
        raise PageError(
            Notice(
                "error",
                "Authorization refused",
                "the callback has no state parameter: it did not come from a consent MIP started",
                code="malformed",
            )
        )
    name = auth.user_name(user)
    with mip_db() as conn:
        try:
            authorization = states.consume(conn, signing_key(), params["state"], name)
        except states.StateRefused as exc:
            kept = exc.nonce is not None and states.record_refusal(
                conn, exc.nonce, reason=exc.reason, message=str(exc), user_name=name
            )
            # never the state or the code themselves (log_redaction would mask them anyway)
            log.warning(
                "consent callback refused (%s) for user %s%s",
                exc.reason,
                name,
                "; recorded on its authorization row" if kept else "; its state names no authorization row",
            )
            raise PageError(Notice("error", "Authorization refused", str(exc), code=exc.reason)) from None
    return authorization


def finish_consent(user: Any, params: dict[str, str]) -> str:
    """Consume the state, complete the authorization, record the outcome; returns the nonce."""
    from mip.airflow.db import mip_db
    from mip.airflow.page.authorize import Outcome, complete

    authorization = _consumed_authorization(user, params)
    name = auth.user_name(user)
    missing = [key for key in ("spapi_oauth_code", "selling_partner_id") if not params.get(key)]
    topology, _, _ = load()
    try:
        conn_id = topology.account(authorization.account_id).connection_id
    except KeyError:
        conn_id = None  # removed from the topology meanwhile: complete() says so
    if missing:
        outcome = Outcome(
            False,
            "Amazon did not authorize",
            f"the callback lacks {', '.join(missing)}: the consent "
            "was cancelled or refused on Amazon; nothing was stored",
            "incomplete_callback",
        )
    elif conn_id and not auth.can_edit_connection(user, conn_id):
        outcome = Outcome(False, "Not allowed", "your role may no longer edit the account's connection", "forbidden")
    else:
        try:
            outcome = complete(
                authorization,
                topology,
                selling_partner_id=params["selling_partner_id"],
                code=params["spapi_oauth_code"],
                actor=name,
            )
        except Exception as exc:  # the state is used up: record why instead of leaving it pending
            log.exception("completing the authorization of account %s failed", authorization.account_id)
            outcome = Outcome(
                False,
                "Unexpected error",
                f"{type(exc).__name__}: {exc}. Nothing was stored; the "
                "api-server's log has the details. Connect again.",
                "unexpected_error",
            )
    with mip_db() as conn:
        states.record_outcome(
            conn,
            authorization.nonce,
            outcome="connected" if outcome.ok else "failed",
            message=json.dumps(
                {
                    "title": outcome.title,
                    "message": outcome.message,
                    "details": outcome.details,
                    "problems": outcome.problems,
                    "problems_title": outcome.problems_title,
                }
            ),
            error_code=outcome.error_code,
            selling_partner_id=params.get("selling_partner_id"),
        )
    return authorization.nonce
