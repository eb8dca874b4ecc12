"""Store an account's new credentials (reset, account switch) and announce them.

Runs outside tasks (the ``mip`` command line, the Marketplaces page in the api-server), where
Airflow's metadata database is reachable: the account's ``amazon_sp_api`` connection is updated in
place, the change is recorded in ``mip.account_credentials_history`` (so a Seller ID switch keeps
the account's history), and an event of the Asset ``mip://accounts/<account>/credentials`` is
registered, which schedules the account's repair DAG.

A Seller ID switch keeps the old seller's authorization in a connection of its own
(``<connection_id>__<old seller id>``, ``previous_seller_connection_id``): orders of hours the old
seller owns are only ever read with it (mip.orders.sellers). ``save_credentials(previous_seller=True)``
renews it (``mip credentials reset --previous-seller``) for a one-off backfill of those hours.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mip.airflow.hooks.sp_api import CONN_TYPE, credentials_from_extra, previous_seller_connection_id
from mip.amazon.credentials import AccountCredentials

if TYPE_CHECKING:
    import psycopg


def credentials_asset_uri(account_id: str) -> str:
    return f"mip://accounts/{account_id}/credentials"


def credentials_asset(account_id: str):
    from airflow.sdk import Asset

    return Asset(uri=credentials_asset_uri(account_id), name=f"mip_credentials__{account_id}")


class ConnectionNotWritable(RuntimeError):
    pass


def read_connection_extra(conn_id: str) -> dict[str, Any]:
    """The connection's extra (from the metadata DB, environment or a secrets backend)."""
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id).extra_dejson


def account_credentials(account_id: str, conn_id: str) -> AccountCredentials:
    return credentials_from_extra(account_id, read_connection_extra(conn_id))


def _write_connection(conn_id: str, extra: dict[str, Any]) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        connection = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
        if connection is None:
            from airflow.exceptions import AirflowNotFoundException

            try:
                Connection.get_connection_from_secrets(conn_id)
            except AirflowNotFoundException:  # absent everywhere: create it
                connection = Connection(conn_id=conn_id, conn_type=CONN_TYPE)
                session.add(connection)
            else:
                raise ConnectionNotWritable(
                    f"connection {conn_id!r} is defined outside Airflow's database (an AIRFLOW_CONN_ environment "
                    "variable or a secrets backend); update it there, or remove it there and create it in "
                    "Admin > Connections so MIP can store new credentials"
                )
        connection.conn_type = CONN_TYPE
        connection.set_extra(json.dumps(extra))


def _register_asset_event(account_id: str, extra: dict[str, Any]) -> bool:
    """Record an event of the account's credentials Asset; False when no DAG uses the Asset yet."""
    from airflow.assets.manager import AssetManager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.uri == credentials_asset_uri(account_id)))
        if asset is None:
            return False
        AssetManager.register_asset_change(asset=asset, extra=extra, session=session, source_is_api=True)
    return True


def _record_and_announce(
    mip_conn: psycopg.Connection,
    account_id: str,
    seller_id: str,
    switched_from: str | None,
    authorized_at: datetime,
    source: str,
    actor: str,
) -> bool:
    """History row (``old_seller_id`` only for a switch), then the credentials Asset event."""
    mip_conn.execute(
        "INSERT INTO mip.account_credentials_history (account_id, seller_id, old_seller_id, authorized_at, source,"
        " actor) VALUES (%s, %s, %s, %s, %s, %s)",
        (account_id, seller_id, switched_from, authorized_at, source, actor),
    )
    mip_conn.commit()
    return _register_asset_event(
        account_id, {"seller_id": seller_id, "authorized_at": authorized_at.isoformat(), "source": source}
    )


def save_credentials(
    mip_conn: psycopg.Connection,
    account_id: str,
    conn_id: str,
    *,
    refresh_token: str,
    seller_id: str,
    source: str,
    actor: str,
    authorized_at: datetime | None = None,
    base_extra: dict[str, Any] | None = None,
    previous_seller: bool = False,
) -> dict[str, Any]:
    """Write the new credentials to the connection, record history, emit the Asset event.

    ``previous_seller``: the authorization is that of an earlier Seller ID of the account; it goes to that
    seller's own connection (the account's keeps its current seller), so the repair imports its hours.
    """
    authorized_at = authorized_at or datetime.now(UTC)
    from airflow.exceptions import AirflowNotFoundException

    try:
        extra = dict(base_extra if base_extra is not None else read_connection_extra(conn_id))
    except AirflowNotFoundException:  # a first connection starts empty
        extra = {}
    old_seller_id = extra.get("seller_id")
    switched_from = old_seller_id if old_seller_id != seller_id and not previous_seller else None
    if switched_from and extra.get("refresh_token"):
        # the old seller's hours are read with its own authorization only: keep it (it may be expired too)
        _write_connection(previous_seller_connection_id(conn_id, switched_from), dict(extra))
    target = previous_seller_connection_id(conn_id, seller_id) if previous_seller else conn_id
    extra.update(refresh_token=refresh_token, seller_id=seller_id, authorization_date=authorized_at.isoformat())
    _write_connection(target, extra)
    source = f"{source}:previous-seller" if previous_seller else source
    announced = _record_and_announce(mip_conn, account_id, seller_id, switched_from, authorized_at, source, actor)
    return {
        "connection_id": target,
        "seller_id": seller_id,
        "old_seller_id": old_seller_id,
        "authorized_at": authorized_at,
        "asset_event": announced,
    }
