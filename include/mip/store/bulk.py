"""Bulk upsert: COPY into a temporary table, then one ``INSERT ... ON CONFLICT`` statement.

Every pipeline writes through ``bulk_upsert``. Re-running it with the same rows changes nothing: a
row is only rewritten when its content differs (``IS DISTINCT FROM``), and, with ``newer_column``,
only when the incoming row is at least as new as the stored one (a newer LastUpdateDate wins).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    import pandas as pd

NULL_MARK = "\\N"


@dataclass(frozen=True)
class UpsertResult:
    staged: int
    inserted: int
    updated: int

    @property
    def unchanged(self) -> int:
        return self.staged - self.inserted - self.updated


def _json_default(value: Any) -> Any:
    return str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return value


def _holds_json(series: pd.Series) -> bool:
    """Whether an object column holds dicts/lists (columns are homogeneous: the first value tells)."""
    if series.dtype != object:
        return False
    present = series.dropna()
    return not present.empty and isinstance(present.iloc[0], dict | list)


def _frame_to_csv(frame: pd.DataFrame, columns: Sequence[str]) -> bytes:
    frame = frame.loc[:, list(columns)]
    json_columns = [c for c in columns if _holds_json(frame[c])]
    if json_columns:
        frame = frame.copy()
        for column in json_columns:
            frame[column] = frame[column].map(_cell)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep=NULL_MARK)
    return buffer.getvalue().encode("utf-8")


def copy_rows(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]] | pd.DataFrame,
) -> int:
    """COPY rows (tuples in ``columns`` order, or a DataFrame holding those columns) into ``table``."""
    target = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur:
        if hasattr(rows, "to_csv"):
            with cur.copy(target + sql.SQL(" WITH (FORMAT csv, NULL {})").format(sql.Literal(NULL_MARK))) as copy:
                copy.write(_frame_to_csv(rows, columns))
        else:
            with cur.copy(target) as copy:
                for row in rows:
                    copy.write_row([_cell(v) for v in row])
        return cur.rowcount


def bulk_upsert(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]] | pd.DataFrame,
    key: Sequence[str],
    *,
    newer_column: str | None = None,
    update_columns: Sequence[str] | None = None,
) -> UpsertResult:
    """Insert new rows of ``table`` and update changed ones, keyed by ``key``.

    ``table`` is schema-qualified (``mip.orders``). Duplicate keys within ``rows`` keep the last
    (or, with ``newer_column``, the newest) row. Columns not in ``update_columns`` (default: all
    non-key columns) keep their stored value on conflict.
    """
    schema, _, name = table.rpartition(".")
    target = sql.Identifier(schema or "mip", name)
    stage = sql.Identifier(f"_stage_{name}")
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = [c for c in (update_columns or columns) if c not in key]

    with conn.transaction():
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(stage, cols, target)
        )
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN _ord bigserial").format(stage))
        staged = copy_rows(conn, f"pg_temp._stage_{name}", columns, rows)
        statement = _merge_statement(target, stage, columns, key, updates, newer_column)
        inserted, updated = conn.execute(statement).fetchone()  # type: ignore[misc]
        conn.execute(sql.SQL("DROP TABLE {}").format(stage))
    return UpsertResult(staged=staged, inserted=inserted, updated=updated)


def _merge_statement(
    target: sql.Identifier,
    stage: sql.Identifier,
    columns: Sequence[str],
    key: Sequence[str],
    updates: Sequence[str],
    newer_column: str | None,
) -> sql.Composed:
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))

    order: list[sql.Composable] = [sql.SQL("{} DESC").format(sql.Identifier(newer_column))] if newer_column else []
    order.append(sql.SQL("_ord DESC"))
    key_cols = sql.SQL(", ").join(map(sql.Identifier, key))
    distinct = sql.SQL("SELECT DISTINCT ON ({k}) {c} FROM {s} ORDER BY {k}, {o}").format(
        k=key_cols, c=cols, s=stage, o=sql.SQL(", ").join(order)
    )
    if updates:
        stored = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in updates)
        incoming = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in updates)
        condition = sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(stored, incoming)
        if newer_column:
            condition += sql.SQL(" AND EXCLUDED.{c} >= t.{c}").format(c=sql.Identifier(newer_column))
        action: sql.Composable = sql.SQL("DO UPDATE SET {} WHERE {}").format(
            sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updates),
            condition,
        )
    else:
        action = sql.SQL("DO NOTHING")
    return sql.SQL(
        "WITH written AS (INSERT INTO {t} AS t ({c}) {d} ON CONFLICT ({k}) {a} RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"
    ).format(t=target, c=cols, d=distinct, k=key_cols, a=action)
