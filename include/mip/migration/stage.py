"""Each run's listings in ``mip``: where they came from, the parsed rows, the rows' problems, the gate.

``mip.migration_inputs`` holds one row per run (report id or file path, encoding, counts);
``mip.migration_listings`` the parsed rows, keyed by (channel, run, line). Rows the parser could not
read are in ``mip.rejected_rows`` (source ``migrate_csv:<channel>:read``, with line and column); rows
the ``migration_listings`` gate rejects too (source ``migrate_csv:<channel>:gate``, with line,
column, rule and value) and are flagged ``rejected``: they are never matched, so never deleted.
Runs older than ``RETENTION_DAYS`` are deleted when a new run stages its listings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from mip.listings.frames import copy_frame, read_frame
from mip.migration.listings_file import FRAME_COLUMNS, ParsedListings
from mip.runs import RunKey
from mip.store.bulk import copy_rows

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from mip.quality.gate import GateResult

RETENTION_DAYS = 30
SUITE = "migration_listings"
# A source where more than this share of the rows is unreadable or fails the gate is refused as a whole.
MAX_REJECTED_FRACTION = 0.05
GATE_COLUMNS = ("line", "sku", "fulfillment_raw", "product_id_type_raw", "gtin", "asin")


def read_source(channel_id: str) -> str:
    return f"migrate_csv:{channel_id}:read"


def gate_source(channel_id: str) -> str:
    return f"migrate_csv:{channel_id}:gate"


def record_input(
    conn: psycopg.Connection, key: RunKey, source: str, *, path: str | None = None, report_id: str | None = None
) -> None:
    conn.execute(
        "INSERT INTO mip.migration_inputs (channel_id, run_id, source, path, report_id) "
        "VALUES (%(channel)s, %(run)s, %(source)s, %(path)s, %(report)s) ON CONFLICT (channel_id, run_id) DO UPDATE "
        "SET source = EXCLUDED.source, path = EXCLUDED.path, report_id = EXCLUDED.report_id, report_status = NULL, "
        "staged_at = NULL",
        {**key.params, "source": source, "path": path, "report": report_id},
    )


def input_of(conn: psycopg.Connection, key: RunKey) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM mip.migration_inputs WHERE channel_id = %(channel)s AND run_id = %(run)s", key.params
        ).fetchone()


def set_report_status(conn: psycopg.Connection, key: RunKey, status: str) -> None:
    conn.execute(
        "UPDATE mip.migration_inputs SET report_status = %(status)s WHERE channel_id = %(channel)s "
        "AND run_id = %(run)s",
        {**key.params, "status": status},
    )


def stage(conn: psycopg.Connection, key: RunKey, parsed: ParsedListings) -> dict[str, Any]:
    """Replace the run's staged listings and read problems with ``parsed``; returns the counts."""
    expired = {**key.params, "days": RETENTION_DAYS}
    conn.execute(
        "DELETE FROM mip.migration_listings l USING mip.migration_inputs i WHERE l.channel_id = i.channel_id "
        "AND l.run_id = i.run_id AND i.channel_id = %(channel)s AND i.run_id <> %(run)s "
        "AND i.created_at < now() - make_interval(days => %(days)s)",
        expired,
    )
    conn.execute(
        "DELETE FROM mip.migration_inputs WHERE channel_id = %(channel)s AND run_id <> %(run)s "
        "AND created_at < now() - make_interval(days => %(days)s)",
        expired,
    )
    conn.execute("DELETE FROM mip.migration_listings WHERE channel_id = %(channel)s AND run_id = %(run)s", key.params)
    conn.execute(
        "DELETE FROM mip.rejected_rows WHERE source = %s AND run_id = %s", (read_source(key.channel_id), key.run_id)
    )
    frame = parsed.frame.copy()
    frame.insert(0, "run_id", key.run_id)
    frame.insert(0, "channel_id", key.channel_id)
    copy_frame(conn, "mip.migration_listings", frame[["channel_id", "run_id", *FRAME_COLUMNS]])
    if parsed.problems:
        copy_rows(
            conn,
            "mip.rejected_rows",
            ("source", "run_id", "line", "record_key", "field", "rule", "value", "message"),
            [
                (read_source(key.channel_id), key.run_id, p.line, p.sku, p.column, p.rule, p.value, p.message)
                for p in parsed.problems
            ],
        )
    conn.execute(
        "UPDATE mip.migration_inputs SET encoding = %(encoding)s, delimiter = %(delimiter)s, rows = %(rows)s, "
        "rejected = %(rejected)s, staged_at = now() WHERE channel_id = %(channel)s AND run_id = %(run)s",
        {
            **key.params,
            "encoding": parsed.encoding,
            "delimiter": parsed.delimiter,
            "rows": parsed.rows,
            "rejected": len(parsed.problems),
        },
    )
    conn.execute("ANALYZE mip.migration_listings")
    return {
        "rows": parsed.rows,
        "staged": len(parsed.frame),
        "unreadable": len(parsed.problems),
        "encoding": parsed.encoding,
        "delimiter": "tab" if parsed.delimiter == "\t" else parsed.delimiter,
    }


def read_listings(conn: psycopg.Connection, key: RunKey, *, passing_only: bool = True) -> pd.DataFrame:
    """The run's staged listings (``FRAME_COLUMNS`` and ``rejected``), by line; only the gate's passing
    rows unless ``passing_only`` is False."""
    query = (
        f"SELECT {', '.join(FRAME_COLUMNS)}, rejected::int AS rejected FROM mip.migration_listings "
        "WHERE channel_id = %(channel)s AND run_id = %(run)s"
        + (" AND NOT rejected" if passing_only else "")
        + " ORDER BY line"
    )
    text = tuple(c for c in FRAME_COLUMNS if c != "line")
    frame = read_frame(conn, query, key.params, text_columns=text)
    frame["rejected"] = frame["rejected"].astype(bool)
    return frame


def gate(conn: psycopg.Connection, key: RunKey) -> tuple[GateResult, int]:
    """Suite ``migration_listings`` over the run's rows; returns the result and the rows rejected in all
    (unreadable ones included). Failing rows get their line, column and SKU in ``mip.rejected_rows``."""
    from mip.quality.gate import run_gate

    frame = read_frame(
        conn,
        f"SELECT {', '.join(GATE_COLUMNS)} FROM mip.migration_listings WHERE channel_id = %(channel)s "
        "AND run_id = %(run)s ORDER BY line",
        key.params,
        text_columns=GATE_COLUMNS[1:],
    )
    result = run_gate(
        conn,
        SUITE,
        frame,
        key_column="line",
        source=gate_source(key.channel_id),
        dag_id=key.dag_id,
        run_id=key.run_id,
        task_id=key.task_id,
        max_failed_fraction=MAX_REJECTED_FRACTION,
    )
    conn.execute(
        "UPDATE mip.rejected_rows r SET line = l.line, record_key = l.sku FROM mip.migration_listings l "
        "WHERE r.source = %(source)s AND r.run_id = %(run)s AND l.channel_id = %(channel)s AND l.run_id = %(run)s "
        "AND r.record_key ~ '^[0-9]+$' AND l.line = r.record_key::integer",
        {**key.params, "source": gate_source(key.channel_id)},
    )
    failed = [int(k) for k in result.failed_keys]
    conn.execute(
        "UPDATE mip.migration_listings SET rejected = (line = ANY(%(failed)s)) WHERE channel_id = "
        "%(channel)s AND run_id = %(run)s",
        {**key.params, "failed": failed},
    )
    unreadable = conn.execute(
        "SELECT coalesce(rejected, 0) FROM mip.migration_inputs WHERE channel_id = %(channel)s AND run_id = %(run)s",
        key.params,
    ).fetchone()
    return result, len(failed) + (unreadable[0] if unreadable else 0)


def rejection_examples(conn: psycopg.Connection, key: RunKey, limit: int = 5) -> list[str]:
    """``line N, column C (rule): message`` of the run's first rejected rows, for error messages."""
    rows = conn.execute(
        "SELECT line, field, rule, value, message FROM mip.rejected_rows WHERE source = ANY(%s) AND run_id = %s "
        "ORDER BY line NULLS LAST, id LIMIT %s",
        ([read_source(key.channel_id), gate_source(key.channel_id)], key.run_id, limit),
    ).fetchall()
    return [
        f"line {line}, column {column or '-'} ({rule}{'' if value is None else f', value {value!r}'}): {message}"
        for line, column, rule, value, message in rows
    ]
