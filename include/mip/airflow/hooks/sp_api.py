"""``amazon_sp_api`` connections and the hook that builds the Amazon gateway from them.

One connection per seller account (its id is the account's ``connection_id`` in the topology).
Fields live in the connection's extra JSON: ``seller_id``, ``region``, ``lwa_client_id``,
``lwa_client_secret``, ``refresh_token``, ``authorization_date`` and the optional ``endpoint``
(an SP-API/LWA base URL override, used for the sandbox; checked by ``allowed_endpoint``). Secrets are
masked as soon as they are read so they never reach task logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import BaseHook

from mip.amazon.credentials import AccountCredentials, parse_authorization_date

CONN_TYPE = "amazon_sp_api"
SECRET_FIELDS = ("lwa_client_secret", "refresh_token")
FIELDS = (
    "seller_id",
    "region",
    "lwa_client_id",
    "lwa_client_secret",
    "refresh_token",
    "authorization_date",
    "endpoint",
)


def extra_field(extra: dict[str, Any], name: str) -> Any:
    """A field as the UI form stores it (plain key) or as older forms did (``extra__<type>__<name>``)."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{CONN_TYPE}__{name}")
    return value


def allowed_endpoint(endpoint: str | None, region: str) -> str | None:
    """The connection's endpoint if credentials may be sent there (None: Amazon's), ``EndpointRefused`` otherwise.

    Sandboxes are allowed only where the deployment says so: ``[mip] allow_sandbox_endpoint``
    (``AIRFLOW__MIP__ALLOW_SANDBOX_ENDPOINT``; on in ``make up`` and the tests) for loopback URLs, plus the
    host names of ``[mip] sandbox_endpoint_hosts`` (comma-separated, e.g. ``sandbox`` in docker compose).
    """
    from mip.airflow.sandbox_rule import sandbox_rule
    from mip.amazon.endpoints import check_endpoint

    allow, hosts = sandbox_rule()
    return check_endpoint(endpoint, region, allow_sandbox=allow, sandbox_hosts=list(hosts))


def credentials_from_extra(account_id: str, extra: dict[str, Any]) -> AccountCredentials:
    """The account's credentials; ``ValueError`` for a missing field or an endpoint that is not allowed."""
    missing = [f for f in FIELDS[:5] if not extra_field(extra, f)]
    if missing:
        raise ValueError(
            f"the amazon_sp_api connection of account {account_id!r} lacks {', '.join(missing)}; fill them in "
            "Admin > Connections (docs/accounts.md) or connect the account in Multi-Channel > Marketplaces"
        )
    region = str(extra_field(extra, "region")).strip().lower()
    return AccountCredentials(
        account_id=account_id,
        seller_id=str(extra_field(extra, "seller_id")).strip(),
        region=region,
        lwa_client_id=str(extra_field(extra, "lwa_client_id")).strip(),
        lwa_client_secret=str(extra_field(extra, "lwa_client_secret")),
        refresh_token=str(extra_field(extra, "refresh_token")),
        authorized_at=parse_authorization_date(extra_field(extra, "authorization_date")),
        endpoint=allowed_endpoint(extra_field(extra, "endpoint"), region),
    )


class SpApiHook(BaseHook):
    """Builds ``SpApiGateway`` objects for one seller account's ``amazon_sp_api`` connection."""

    conn_name_attr = "amazon_sp_api_conn_id"
    default_conn_name = "amazon_sp_api_default"
    conn_type = CONN_TYPE
    hook_name = "Amazon SP-API"

    def __init__(self, amazon_sp_api_conn_id: str = default_conn_name, account_id: str | None = None):
        super().__init__()
        self.amazon_sp_api_conn_id = amazon_sp_api_conn_id
        self.account_id = account_id or amazon_sp_api_conn_id

    def get_conn(self) -> AccountCredentials:
        return self.credentials()

    def credentials(self) -> AccountCredentials:
        from airflow.sdk.log import mask_secret

        extra = self.get_connection(self.amazon_sp_api_conn_id).extra_dejson
        for name in SECRET_FIELDS:
            if value := extra_field(extra, name):
                mask_secret(value, name)
        return credentials_from_extra(self.account_id, extra)

    def gateway(self, policy=None):
        """A gateway whose rate budget lives in the mip database (``mip_postgres``)."""
        from mip.airflow.db import mip_autocommit_connection
        from mip.amazon.budget import RateBudget
        from mip.amazon.gateway import SpApiGateway

        credentials = self.credentials()
        budget = RateBudget(mip_autocommit_connection(), credentials.seller_id)
        return SpApiGateway(credentials, budget, policy)

    @contextmanager
    def gateway_session(self, policy=None) -> Iterator:
        """``gateway()`` whose rate-budget connection is closed on exit."""
        gateway = self.gateway(policy)
        try:
            yield gateway
        finally:
            gateway.budget.conn.close()


@contextmanager
def account_gateway(account) -> Iterator:
    """The gateway of a topology account inside a task: permanent Amazon errors fail the task at once
    (``mip.airflow.errors.amazon_errors``), the rate budget's connection is closed on exit."""
    from mip.airflow.errors import amazon_errors

    with amazon_errors(), SpApiHook(account.connection_id, account.id).gateway_session() as gateway:
        yield gateway


class SellerNotAuthorized(Exception):
    """No usable authorization of a previous Seller ID of the account is stored."""


def previous_seller_connection_id(connection_id: str, seller_id: str) -> str:
    """The connection keeping the authorization of a previous Seller ID of an account: written at the switch
    (``mip.airflow.credentials.save_credentials``), renewed by ``mip credentials reset --previous-seller``."""
    return f"{connection_id}__{seller_id.lower()}"


def seller_hook(account, seller_id: str) -> SpApiHook:
    """The hook reading for ``seller_id``: the account's connection while it holds that Seller ID, else the
    previous seller's connection; SellerNotAuthorized when there is none."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    hook = SpApiHook(account.connection_id, account.id)
    current = hook.credentials().seller_id
    if current == seller_id:
        return hook
    conn_id = previous_seller_connection_id(account.connection_id, seller_id)
    previous = SpApiHook(conn_id, account.id)
    try:
        stored = previous.credentials().seller_id
    except AirflowNotFoundException:
        raise SellerNotAuthorized(
            f"account {account.id} now reads for Seller ID {current}; no authorization of {seller_id} is stored "
            f"(connection {conn_id})"
        ) from None
    if stored != seller_id:
        raise SellerNotAuthorized(f"connection {conn_id} holds Seller ID {stored}, not {seller_id}")
    return previous


@contextmanager
def seller_gateway(account, seller_id: str, advice: str | None = None) -> Iterator:
    """``account_gateway`` reading for one Seller ID of the account (``seller_hook``); ``advice`` leads the
    message of a permanent Amazon error (how to recover a previous seller's hours)."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.errors import amazon_errors

    try:
        hook = seller_hook(account, seller_id)
    except SellerNotAuthorized as exc:
        raise AirflowFailException(f"{advice} ({exc})" if advice else str(exc)) from None
    with amazon_errors(advice), hook.gateway_session() as gateway:
        yield gateway
