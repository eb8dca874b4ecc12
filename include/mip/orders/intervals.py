"""What each channel has imported (``mip.order_intervals``), and the gaps in it.

Every run of ``mip_orders__<channel>`` writes one row when it starts extracting (``started``) and
sets it to ``imported`` (with counts) or ``failed`` (with the error). The repair DAG asks
``gaps()`` which of the schedule's intervals since a lookback are not covered by imported rows,
and re-runs them; the product knows its gaps without reading Airflow's metadata database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from mip.orders.window import AMAZON_DELAY, Window

CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
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
) -> None:
    conn.execute(
        "INSERT INTO mip.order_intervals (channel_id, run_id, dag_id, logical_date, interval_start, interval_end,"
        " covered_end, method, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'started') "
        "ON CONFLICT (channel_id, run_id) DO UPDATE SET dag_id = EXCLUDED.dag_id, logical_date = EXCLUDED.logical_date,"
        " interval_start = EXCLUDED.interval_start, interval_end = EXCLUDED.interval_end,"
        " covered_end = EXCLUDED.covered_end, method = EXCLUDED.method, status = 'started', report_id = NULL,"
        " orders_seen = NULL, orders_loaded = NULL, items_loaded = NULL, rejected = NULL, api_calls = NULL,"
        " error = NULL, started_at = now(), finished_at = NULL",
        (channel_id, run_id, dag_id, logical_date, window.start, window.end, window.before, method),
    )


def current(conn: psycopg.Connection, channel_id: str, run_id: str) -> dict | None:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM mip.order_intervals WHERE channel_id = %s AND run_id = %s", (channel_id, run_id))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d.name for d in cur.description], row, strict=True))


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
    """An interval of the schedule not imported; ``run_id`` is the run that tried it, if any."""

    channel_id: str
    start: datetime
    end: datetime
    run_id: str | None = None
    logical_date: datetime | None = None
    status: str | None = None

    def as_dict(self) -> dict:
        return {
            "channel_id": self.channel_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "run_id": self.run_id,
            "logical_date": self.logical_date.isoformat() if self.logical_date else None,
            "status": self.status,
        }


def schedule_intervals(schedule: str, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The cron schedule's data intervals [a, b) with start <= a and b <= end (UTC)."""
    from croniter import croniter

    expression = CRON_PRESETS.get(schedule, schedule)
    cron = croniter(expression, start.astimezone(UTC) - timedelta(microseconds=1))
    current_start = cron.get_next(datetime)
    while True:
        following = cron.get_next(datetime)
        if following > end:
            return
        yield current_start.astimezone(UTC), following.astimezone(UTC)
        current_start = following


def _merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(merged: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(a <= start and end <= b for a, b in merged)


def gaps(
    conn: psycopg.Connection,
    channel_id: str,
    schedule: str,
    since: datetime,
    now: datetime | None = None,
) -> list[Gap]:
    """The channel's schedule intervals since ``since`` that no imported run covers.

    Counting starts at the channel's first recorded run (intervals before MIP imported anything
    are history, not gaps). A gap tried by a run (failed, or started long ago and never finished)
    names that run, so the repair re-runs it in place; a gap no run tried has no run_id.
    """
    now = now or datetime.now(UTC)
    first = conn.execute(
        "SELECT min(interval_start) FROM mip.order_intervals WHERE channel_id = %s", (channel_id,)
    ).fetchone()[0]
    if first is None:
        return []
    since = max(since, first)
    rows = conn.execute(
        "SELECT run_id, logical_date, interval_start, interval_end, covered_end, status, started_at "
        "FROM mip.order_intervals WHERE channel_id = %s AND covered_end > %s ORDER BY started_at",
        (channel_id, since),
    ).fetchall()
    imported = _merge([(r[2], r[4]) for r in rows if r[5] == "imported"])
    busy = _merge([(r[2], r[3]) for r in rows if r[5] == "started" and r[6] > now - IN_PROGRESS])
    tried = {(r[2], r[3]): r for r in rows if r[5] != "imported"}  # the latest attempt per interval wins
    found = []
    for start, end in schedule_intervals(schedule, since, now - AMAZON_DELAY - SETTLE):
        if _covered(imported, start, end) or _covered(busy, start, end):
            continue
        attempt = tried.get((start, end))
        if attempt is not None:
            found.append(Gap(channel_id, start, end, attempt[0], attempt[1], attempt[5]))
        else:
            found.append(Gap(channel_id, start, end))
    return found


def repair_plan(found: list[Gap], max_window: timedelta) -> list[Gap]:
    """Gaps no run tried are merged when adjacent (one run per outage, up to ``max_window`` long)."""
    plan: list[Gap] = []
    for gap in found:
        last = plan[-1] if plan else None
        if (
            gap.run_id is None
            and last is not None
            and last.run_id is None
            and last.channel_id == gap.channel_id
            and last.end == gap.start
            and gap.end - last.start <= max_window
        ):
            plan[-1] = Gap(gap.channel_id, last.start, gap.end)
        else:
            plan.append(gap)
    return plan
