"""Snapshot the ``mip`` schema's tables and compare two snapshots, ignoring what differs by nature.

Two runs of the same DAGs must leave the same rows. What legitimately differs between them is not
compared: timestamp columns (``created_at``, ``registered_at``, ...), serial/identity ids, columns
that reference a serial id by foreign key, and any column listed in ``IGNORED_COLUMNS``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

TIMESTAMP_TYPES = {"timestamp with time zone", "timestamp without time zone"}
# "table.column" that differ between two correct runs for a reason the catalog cannot tell
# (for example an id chosen by the sandbox per process); extend when a pipeline adds one.
IGNORED_COLUMNS: set[str] = {
    "rate_budget.tokens",  # what is left in a rate bucket depends on when the calls happened
    "catalog_versions.seconds",  # how long the ingest took
    # ids the sandbox draws at random per state, like Amazon's (and what embeds them)
    "feed_submissions.feed_id",
    "feed_submissions.feed_document_id",
    "feed_submissions.result_document_id",
    "feed_submissions.upload_url",
    "feed_submissions.report",
    "order_intervals.report_id",
    "international_runs.report_id",
    "migration_inputs.report_id",
}


@dataclass
class TableSnapshot:
    columns: list[str]
    ignored: list[str]
    rows: list[tuple] = field(default_factory=list)


def _ignored_columns(conn: psycopg.Connection, schema: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        """
        SELECT c.table_name, c.column_name, c.data_type, coalesce(c.column_default, ''), c.is_identity
        FROM information_schema.columns c
        WHERE c.table_schema = %s
        """,
        (schema,),
    ).fetchall()
    ignored = {
        (table, column)
        for table, column, data_type, default, identity in rows
        if data_type in TIMESTAMP_TYPES
        or default.startswith("nextval(")
        or identity == "YES"
        or f"{table}.{column}" in IGNORED_COLUMNS
    }
    references = conn.execute(
        """
        SELECT src.relname, src_col.attname, dst.relname, dst_col.attname
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = src.relnamespace
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN LATERAL unnest(con.conkey, con.confkey) AS k(src_attnum, dst_attnum) ON true
        JOIN pg_attribute src_col ON src_col.attrelid = src.oid AND src_col.attnum = k.src_attnum
        JOIN pg_attribute dst_col ON dst_col.attrelid = dst.oid AND dst_col.attnum = k.dst_attnum
        WHERE con.contype = 'f' AND ns.nspname = %s
        """,
        (schema,),
    ).fetchall()
    for src_table, src_column, dst_table, dst_column in references:
        if (dst_table, dst_column) in ignored:
            ignored.add((src_table, src_column))
    return ignored


def _canonical(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, Decimal):
        return str(value.normalize())
    return value


def snapshot(url: str, schema: str = "mip") -> dict[str, TableSnapshot]:
    """Every base table of ``schema``: compared columns and their rows, sorted."""
    with psycopg.connect(url) as conn:
        ignored = _ignored_columns(conn, schema)
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                (schema,),
            )
        ]
        result = {}
        for table in tables:
            all_columns = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (schema, table),
                )
            ]
            columns = [c for c in all_columns if (table, c) not in ignored]
            snap = TableSnapshot(columns, [c for c in all_columns if (table, c) in ignored])
            if columns:
                query = sql.SQL("SELECT {} FROM {}.{}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                    sql.Identifier(schema),
                    sql.Identifier(table),
                )
                rows = [tuple(_canonical(v) for v in row) for row in conn.execute(query)]
                snap.rows = sorted(rows, key=repr)
            result[table] = snap
        return result


def differences(expected: dict[str, TableSnapshot], actual: dict[str, TableSnapshot], limit: int = 5) -> list[str]:
    """Human-readable differences of ``actual`` from ``expected`` (empty when equal)."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual or table not in expected:
            problems.append(f"table {table} exists only in the {'expected' if table in expected else 'actual'} run")
            continue
        a, b = expected[table], actual[table]
        if a.columns != b.columns:
            problems.append(f"table {table}: compared columns differ: {a.columns} vs {b.columns}")
            continue
        if a.rows == b.rows:
            continue
        missing = _multiset_minus(a.rows, b.rows)
        extra = _multiset_minus(b.rows, a.rows)
        lines = [f"table {table} ({len(a.rows)} vs {len(b.rows)} rows), columns {a.columns}:"]
        lines += [f"  only in expected: {row}" for row in missing[:limit]]
        lines += [f"  only in actual:   {row}" for row in extra[:limit]]
        problems.append("\n".join(lines))
    return problems


def _multiset_minus(left: list[tuple], right: list[tuple]) -> list[tuple]:
    return sorted((Counter(left) - Counter(right)).elements(), key=repr)
