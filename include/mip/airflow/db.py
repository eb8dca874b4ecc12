"""The ``mip`` database inside tasks, through the ``mip_postgres`` Airflow connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import psycopg

MIP_CONN_ID = "mip_postgres"


@contextmanager
def mip_db() -> Iterator[psycopg.Connection]:
    """A psycopg 3 connection to the mip database; committed on success, rolled back on error."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    # With SQLAlchemy 2 and psycopg installed, the provider's hook hands out psycopg 3 connections.
    conn = cast(psycopg.Connection, PostgresHook(postgres_conn_id=MIP_CONN_ID).get_conn())
    try:
        conn.execute("SET search_path TO mip, public")
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def mip_autocommit_connection() -> psycopg.Connection:
    """A long-lived autocommit connection (the rate budget's); the caller closes it."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = cast(psycopg.Connection, PostgresHook(postgres_conn_id=MIP_CONN_ID).get_conn())
    conn.autocommit = True
    return conn
