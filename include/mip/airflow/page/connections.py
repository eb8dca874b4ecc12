"""What the page reads from and writes to an account's ``amazon_sp_api`` connection.

Reading goes through Airflow's secrets chain (environment, secrets backend, metadata DB). Writing
is only done for the application's credentials of an account that has none yet (the refresh token
is stored by ``mip.airflow.credentials.save_credentials`` after a consent). Secrets never leave the
server: the page shows whether they are set, never their values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mip.airflow.hooks.sp_api import CONN_TYPE, extra_field
from mip.amazon.credentials import parse_authorization_date

APP_FIELDS = ("lwa_client_id", "lwa_client_secret", "application_id")


@dataclass(frozen=True)
class ConnectionInfo:
    conn_id: str
    exists: bool
    extra: dict[str, Any]
    in_database: bool  # False: defined in the environment or a secrets backend (read-only for MIP)

    def field(self, name: str) -> Any:
        return extra_field(self.extra, name)

    @property
    def seller_id(self) -> str | None:
        return self.field("seller_id") or None

    @property
    def endpoint(self) -> str | None:
        return (self.field("endpoint") or "").rstrip("/") or None

    def allowed_endpoint(self, default_region: str) -> str | None:
        """The endpoint credentials may be sent to (None: Amazon's); ``EndpointRefused`` otherwise."""
        from mip.airflow.hooks.sp_api import allowed_endpoint

        return allowed_endpoint(self.endpoint, str(self.field("region") or default_region).lower())

    @property
    def has_app_credentials(self) -> bool:
        return bool(self.field("lwa_client_id") and self.field("lwa_client_secret"))

    @property
    def authorized(self) -> bool:
        return bool(self.field("refresh_token"))

    @property
    def authorized_at(self) -> datetime | None:
        try:
            return parse_authorization_date(self.field("authorization_date"))
        except ValueError:
            return None

    def age_days(self, now: datetime | None = None) -> int | None:
        moment = self.authorized_at
        return None if moment is None else ((now or datetime.now(UTC)) - moment).days


def read(conn_id: str) -> ConnectionInfo:
    """The connection tasks would use; ``in_database`` only when that one is the metadata DB's row."""
    import os

    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    try:
        effective = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return ConnectionInfo(conn_id, False, {}, False)
    with create_session() as session:
        stored = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
        stored_extra = stored.extra_dejson if stored is not None else None
    shadowed = f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ or stored_extra != effective.extra_dejson
    return ConnectionInfo(conn_id, True, effective.extra_dejson, stored is not None and not shadowed)


class NotWritable(RuntimeError):
    pass


def save_app_credentials(conn_id: str, *, region: str, values: dict[str, str], description: str) -> None:
    """Create the connection with the application's credentials, or fill them into the stored one."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    info = read(conn_id)
    if info.exists and not info.in_database:
        raise NotWritable(
            f"connection {conn_id!r} is defined outside Airflow's database (an AIRFLOW_CONN_ environment variable or a "
            "secrets backend): add the application's credentials there"
        )
    with create_session() as session:
        connection = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
        if connection is None:
            connection = Connection(conn_id=conn_id, conn_type=CONN_TYPE, description=description)
            session.add(connection)
        extra = dict(connection.extra_dejson) if connection.extra else {}
        extra.setdefault("region", region)
        extra.update({k: v for k, v in values.items() if v})
        connection.conn_type = CONN_TYPE
        connection.set_extra(json.dumps(extra))
