"""The order gate: suite ``orders`` (mip/quality/suites/orders.json) over the run's changed orders.

The frame holds one row per staged order with what its items add up to, so order- and item-level
rules are expectations on order rows: a failing order is rejected whole (its row(s) in
``mip.rejected_rows``, ``source`` = ``orders:<channel>``, ``record_key`` = the AmazonOrderId) and is
not loaded. It is evaluated again the next time Amazon changes it (its LastUpdateDate moves) or
the interval is imported again. Rejections never fail the run; they are counted and named in the
task's log and in ``mip.order_intervals.rejected``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from mip.orders.model import KNOWN_STATUSES, PAID_STATUSES

if TYPE_CHECKING:
    from mip.quality.gate import GateResult

SUITE = "orders"
FRAME_QUERY = """
WITH lines AS (
    SELECT amazon_order_id, count(*) AS items_count,
           LEAST(min(item_price), min(item_tax), min(shipping_price), min(shipping_tax), min(promotion_discount),
                 min(quantity)) AS items_min_amount,
           string_agg(DISTINCT currency, ',') AS items_currency
    FROM mip.stage_order_items WHERE channel_id = %(channel)s AND run_id = %(run)s
    GROUP BY amazon_order_id
)
SELECT o.amazon_order_id, o.order_status, o.marketplace_id, o.currency, o.order_total,
       o.purchase_date, o.last_update_date, coalesce(l.items_count, 0) AS items_count, l.items_min_amount,
       l.items_currency
FROM mip.stage_orders o LEFT JOIN lines l USING (amazon_order_id)
WHERE o.channel_id = %(channel)s AND o.run_id = %(run)s AND o.changed
ORDER BY o.amazon_order_id
"""


def source(channel_id: str) -> str:
    return f"orders:{channel_id}"


def order_frame(conn: psycopg.Connection, channel_id: str, run_id: str):
    """The gate's frame, with the derived columns the suite expects true."""
    import pandas as pd

    with conn.cursor() as cur:
        cur.execute(FRAME_QUERY, {"channel": channel_id, "run": run_id})
        columns = [d.name for d in cur.description or ()]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in ("order_total", "items_min_amount"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["items_count"] = frame["items_count"].astype("int64")
    # a paid order has its total; every order but a Pending/Canceled one has its lines
    frame["total_present"] = ~frame["order_status"].isin(PAID_STATUSES) | frame["order_total"].notna()
    frame["items_present"] = frame["order_status"].isin(("Pending", "PendingAvailability", "Canceled")) | (
        frame["items_count"] > 0
    )
    frame["dates_ordered"] = frame["purchase_date"].isna() | (frame["last_update_date"] >= frame["purchase_date"])
    return frame


def run_order_gate(
    conn: psycopg.Connection, channel_id: str, currency: str, run_id: str, dag_id: str | None, task_id: str | None
) -> GateResult:
    """Validate the run's changed orders; mark the failing ones ``rejected`` in mip.stage_orders."""
    from mip.orders.stage import analyze
    from mip.quality.gate import run_gate

    analyze(conn)
    frame = order_frame(conn, channel_id, run_id)
    result = run_gate(
        conn,
        SUITE,
        frame,
        key_column="amazon_order_id",
        source=source(channel_id),
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        max_failed_fraction=1.0,  # rejected orders are kept aside, never a reason to hold the others back
        parameters={"currency": [currency], "statuses": list(KNOWN_STATUSES)},
    )
    conn.execute(
        "UPDATE mip.stage_orders SET rejected = (amazon_order_id = ANY(%s)) WHERE channel_id = %s AND run_id = %s",
        (sorted(set(map(str, result.failed_keys))), channel_id, run_id),
    )
    return result


def rejected_reasons(conn: psycopg.Connection, channel_id: str, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The run's rejected orders with their reasons (for the task log and the run's summary)."""
    rows = conn.execute(
        "SELECT record_key, string_agg(rule || ' = ' || coalesce(value, 'null') || ': ' || message, '; ' "
        "ORDER BY rule) FROM mip.rejected_rows WHERE source = %s AND run_id = %s GROUP BY record_key "
        "ORDER BY record_key LIMIT %s",
        (source(channel_id), run_id, limit),
    ).fetchall()
    return [{"amazon_order_id": key, "reasons": reasons} for key, reasons in rows]
