"""``mip.migration_audit``: who planned, checked, approved, was refused or executed which plan, and when.

Written in its own committed statement, so an audit entry survives the failure it explains.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

if TYPE_CHECKING:
    import psycopg


def record(
    conn: psycopg.Connection,
    *,
    plan_id: str,
    channel_id: str,
    action: str,
    actor: str,
    dag_id: str | None,
    run_id: str | None,
    message: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO mip.migration_audit (plan_id, channel_id, action, actor, dag_id, run_id, message, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (plan_id, channel_id, action, actor, dag_id, run_id, message, json.dumps(details or {}, default=str)),
    )
    conn.commit()


def last_action(conn: psycopg.Connection, plan_id: str, run_id: str) -> dict[str, Any] | None:
    """The latest approval decision (approved, checked or refused) a run recorded for a plan."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM mip.migration_audit WHERE plan_id = %s AND run_id = %s "
            "AND action IN ('approved', 'checked', 'refused') ORDER BY at DESC, id DESC LIMIT 1",
            (plan_id, run_id),
        ).fetchone()
