"""Server-level helpers: find a PostgreSQL server, create and drop databases on it."""

from __future__ import annotations

import psycopg
from psycopg import sql


def base_url(url: str) -> str:
    """``postgresql://user@host:port/db`` -> ``postgresql://user@host:port``."""
    host_part = url.partition("://")[2].split("/", 1)[0]
    return f"postgresql://{host_part}"


def reachable(url: str, timeout: int = 2) -> bool:
    try:
        with psycopg.connect(base_url(url) + "/postgres", connect_timeout=timeout):
            return True
    except psycopg.OperationalError:
        return False


def ensure_database(server: str, name: str) -> str:
    """Create database ``name`` on ``server`` unless it exists; returns its URL."""
    with psycopg.connect(base_url(server) + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{base_url(server)}/{name}"


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(base_url(server) + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
