"""What each channel has imported (``mip.order_intervals``), and the gaps in it.

Every run of ``mip_orders__<channel>`` writes one row when it starts extracting (``started``) and
sets it to ``imported`` (with counts) or ``failed`` (with the error); the row records the Seller ID
the run read with. The repair DAG asks ``gaps()`` which of the schedule's intervals are not covered
by imported rows *of the seller that owns them* (mip.orders.sellers), from the channel's first
recorded run on (no horizon), and re-runs them; the product knows its gaps without reading
Airflow's metadata database.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from mip.orders.sellers import SellerPeriod
from mip.orders.window import AMAZON_DELAY, Window
from mip.schedule import schedule_intervals, schedule_period
from mip.store.db import one

# A 'started' row younger than this belongs to a run still going on: not a gap (yet).
IN_PROGRESS = timedelta(hours=2)
# Intervals must have closed this long ago to count (the scheduled run waits 2 minutes, then runs).
SETTLE = timedelta(minutes=15)


def record_start(
    conn: psycopg.Connection,
    channel_id: str,
    run_id: str,
    dag_id: str,
    logical_date: datetime | None,
    window: Window,
    method: str,
    *,
    seller_id: str,
    account_id: str,
) -> None:
    conn.execute(
        "INSERT INTO mip.order_intervals (channel_id, run_id, seller_id, account_id, dag_id, logical_date,"
        " interval_start, interval_end, covered_end, method, status)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'started') ON CONFLICT (channel_id, run_id) DO UPDATE SET"
        " seller_id = EXCLUDED.seller_id, account_id = EXCLUDED.account_id,"
        " dag_id = EXCLUDED.dag_id, logical_date = EXCLUDED.logical_date,"
        " interval_start = EXCLUDED.interval_start, interval_end = EXCLUDED.interval_end,"
        " covered_end = EXCLUDED.covered_end, method = EXCLUDED.method, status = 'started', report_id = NULL,"
        " orders_seen = NULL, orders_loaded = NULL, items_loaded = NULL, rejected = NULL, api_calls = NULL,"
        " error = NULL, started_at = now(), finished_at = NULL",
        (
            channel_id,
            run_id,
            seller_id,
            account_id,
            dag_id,
            logical_date,
            window.start,
            window.end,
            window.before,
            method,
        ),
    )


def current(conn: psycopg.Connection, channel_id: str, run_id: str) -> dict | None:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM mip.order_intervals WHERE channel_id = %s AND run_id = %s", (channel_id, run_id))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d.name for d in cur.description or ()], row, strict=True))


def update(conn: psycopg.Connection, channel_id: str, run_id: str, **values) -> None:
    if not values:
        return
    assignments = ", ".join(f"{name} = %s" for name in values)
    conn.execute(
        f"UPDATE mip.order_intervals SET {assignments} WHERE channel_id = %s AND run_id = %s",
        (*values.values(), channel_id, run_id),
    )


def add_calls(conn: psycopg.Connection, channel_id: str, run_id: str, calls: int) -> None:
    conn.execute(
        "UPDATE mip.order_intervals SET api_calls = coalesce(api_calls, 0) + %s WHERE channel_id = %s AND run_id = %s",
        (calls, channel_id, run_id),
    )


def record_failure(conn: psycopg.Connection, channel_id: str, run_id: str, error: str) -> None:
    conn.execute(
        "UPDATE mip.order_intervals SET status = 'failed', error = %s, finished_at = now() "
        "WHERE channel_id = %s AND run_id = %s AND status <> 'imported'",
        (error[:2000], channel_id, run_id),
    )


def record_imported(conn: psycopg.Connection, channel_id: str, run_id: str, **counts: int) -> None:
    update(conn, channel_id, run_id, status="imported", finished_at=datetime.now(UTC), error=None, **counts)


# --- gaps -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """An interval of the schedule a seller did not import; ``run_id`` is the run that tried it, if any."""

    channel_id: str
    seller_id: str
    start: datetime
    end: datetime
    run_id: str | None = None
    logical_date: datetime | None = None
    status: str | None = None

    def describe(self) -> str:
        return f"{self.channel_id} [{self.start.isoformat()}, {self.end.isoformat()})"


def _merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(merged: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """Whether one of the sorted, disjoint ranges contains [start, end) (binary search: years of hours)."""
    index = bisect_right(merged, (start, datetime.max.replace(tzinfo=UTC))) - 1
    return index >= 0 and merged[index][0] <= start and end <= merged[index][1]


def first_recorded(conn: psycopg.Connection, channel_id: str) -> datetime | None:
    return one(
        conn.execute("SELECT min(interval_start) FROM mip.order_intervals WHERE channel_id = %s", (channel_id,))
    )[0]


def gaps(
    conn: psycopg.Connection,
    channel_id: str,
    schedule: str,
    periods: list[SellerPeriod],
    now: datetime | None = None,
) -> list[Gap]:
    """The channel's schedule intervals that the seller owning them has not imported, oldest first.

    Counting starts at the channel's first recorded run (intervals before MIP imported anything are
    history, not gaps) and has no other limit. An interval a switch falls in is split: the old seller
    owns it up to the switch, the new one from the switch on. A gap tried by a run of its seller
    (failed, or started long ago and never finished) names that run, so the repair re-runs it in place;
    a gap no run tried has no run_id.
    """
    now = now or datetime.now(UTC)
    first = first_recorded(conn, channel_id)
    if first is None:
        return []
    closed_before = now - AMAZON_DELAY - SETTLE
    rows = conn.execute(
        "SELECT run_id, seller_id, logical_date, interval_start, interval_end, covered_end, status, started_at "
        "FROM mip.order_intervals WHERE channel_id = %s ORDER BY started_at",
        (channel_id,),
    ).fetchall()
    schedule_list = list(schedule_intervals(schedule, first, closed_before + schedule_period(schedule)))
    found = []
    for period in periods:
        own = [r for r in rows if r[1] == period.seller_id]
        imported = _merge([(r[3], r[5]) for r in own if r[6] == "imported"])
        busy = _merge([(r[3], r[4]) for r in own if r[6] == "started" and r[7] > now - IN_PROGRESS])
        tried = {(r[3], r[4]): r for r in own if r[6] != "imported"}  # the latest attempt per interval wins
        for interval in schedule_list:
            part = period.clip(*interval)
            if part is None or part[1] > closed_before:
                continue
            if _covered(imported, *part) or _covered(busy, *part):
                continue
            attempt = tried.get(part) or tried.get(interval)
            if attempt is not None:
                found.append(Gap(channel_id, period.seller_id, *part, attempt[0], attempt[2], attempt[6]))
            else:
                found.append(Gap(channel_id, period.seller_id, *part))
    return sorted(found, key=lambda g: (g.start, g.seller_id))


def repair_plan(found: list[Gap], max_window: timedelta, max_reruns: int) -> list[Gap]:
    """The runs that close ``found``: failed runs re-run in place, adjacent untried gaps merged into one run
    (up to ``max_window`` long).

    An outage with more than ``max_reruns`` tried gaps is imported as merged windows too (through the
    orders report when long): hundreds of in-place re-runs would cost far more scheduling and calls.
    """
    if sum(1 for g in found if g.run_id) > max_reruns:
        found = [Gap(g.channel_id, g.seller_id, g.start, g.end) for g in found]
    plan: list[Gap] = []
    for gap in sorted(found, key=lambda g: (g.channel_id, g.seller_id, g.start)):
        last = plan[-1] if plan else None
        if (
            gap.run_id is None
            and last is not None
            and last.run_id is None
            and (last.channel_id, last.seller_id) == (gap.channel_id, gap.seller_id)
            and last.end == gap.start
            and gap.end - last.start <= max_window
        ):
            plan[-1] = Gap(gap.channel_id, gap.seller_id, last.start, gap.end)
        else:
            plan.append(gap)
    return plan
