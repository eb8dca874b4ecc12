"""Connections to the ``mip`` database (psycopg 3).

Outside Airflow the URL comes from ``MIP_DATABASE_URL``; inside tasks ``mip.airflow.db`` opens the
``mip_postgres`` Airflow connection through the postgres provider's hook instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from mip.command_errors import UserError

SCHEMA = "mip"


class DatabaseNotConfigured(RuntimeError, UserError):
    pass


def one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, or a row the caller knows exists)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row


def database_url() -> str:
    url = os.environ.get("MIP_DATABASE_URL")
    if not url:
        raise DatabaseNotConfigured(
            "MIP_DATABASE_URL is not set; export it (postgresql://user@host:5432/dbname) "
            "or run through `make up`, which configures the embedded database"
        )
    return url


def libpq_url(url: str) -> str:
    """A SQLAlchemy-style URL (``postgresql+psycopg://``) as libpq accepts it."""
    return "postgresql://" + url.partition("://")[2]


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.partition("://")[2]


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection with ``search_path`` set to ``mip``; committed on success, rolled back on error."""
    with psycopg.connect(libpq_url(url or database_url()), autocommit=autocommit) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")
        yield conn
