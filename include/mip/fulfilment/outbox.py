"""The outbox table: states, transitions (each one also an event row) and the queries the steps share."""

from __future__ import annotations

import json
from typing import Any

from mip.runs import RunKey

STATES = ("gated", "checked", "sending", "sent", "tracked", "confirmed", "refused", "cancelled")
WAITING = ("gated", "checked", "sending", "sent", "tracked", "refused")  # not done yet
# supplier refusals that may clear on their own or after the fix (balance topped up, stock back): retried each run
RETRIED_REFUSALS = ("balance", "stock", "supplier_unavailable")


def transition(
    conn: Any, key: RunKey, row: dict[str, Any], state: str, *, detail: str | None = None, **fields: Any
) -> None:
    """Move one order to ``state`` (setting ``fields``), and record the event."""
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    sql = (
        "UPDATE mip.fulfilment_orders SET state = %(state)s, updated_at = now()"
        + (f", {assignments}" if assignments else "")
        + " WHERE seller_id = %(seller)s AND amazon_order_id = %(order)s"
    )
    conn.execute(sql, {**fields, "state": state, "seller": row["seller_id"], "order": row["amazon_order_id"]})
    event(conn, key, row, state, detail)
    row.update(fields, state=state)


def event(conn: Any, key: RunKey, row: dict[str, Any], state: str, detail: str | None = None) -> None:
    conn.execute(
        "INSERT INTO mip.fulfilment_events (seller_id, amazon_order_id, channel_id, run_id, state, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (row["seller_id"], row["amazon_order_id"], key.channel_id, key.run_id, state, detail),
    )


def refuse(conn: Any, key: RunKey, row: dict[str, Any], reason: str, fix: str, detail: str | None = None) -> None:
    transition(conn, key, row, "refused", detail=detail or reason, reason=reason, fix=fix)


def rows(conn: Any, channel_id: str, states: tuple[str, ...], extra_where: str = "", limit: int | None = None):
    """Outbox rows of a channel in ``states`` (dicts), oldest LatestShipDate first."""
    from psycopg.rows import dict_row

    sql = (
        "SELECT * FROM mip.fulfilment_orders WHERE channel_id = %s AND state = ANY(%s)"
        + (f" AND {extra_where}" if extra_where else "")
        + " ORDER BY latest_ship_date NULLS LAST, amazon_order_id"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, (channel_id, list(states))).fetchall()


def lines_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    lines = row["lines"]
    return json.loads(lines) if isinstance(lines, str) else lines


def counts(conn: Any, channel_ids: list[str]) -> dict[str, dict[str, int]]:
    """channel -> state -> orders (for the Marketplaces page)."""
    found: dict[str, dict[str, int]] = {c: {} for c in channel_ids}
    for channel, state, n in conn.execute(
        "SELECT channel_id, state, count(*) FROM mip.fulfilment_orders WHERE channel_id = ANY(%s)"
        " GROUP BY channel_id, state",
        (channel_ids,),
    ):
        found[channel][state] = n
    return found
