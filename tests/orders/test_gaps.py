"""Gaps in mip.order_intervals: what the repair DAG re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mip.orders import intervals
from mip.orders.window import Window

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def h(hour: int, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def record(
    db,
    run_id: str,
    start: datetime,
    end: datetime,
    status: str,
    *,
    covered: datetime | None = None,
    started: datetime | None = None,
) -> None:
    intervals.record_start(db, "it", run_id, "mip_orders__it", start, Window(start, end, covered or end), "api")
    if status == "imported":
        intervals.record_imported(db, "it", run_id, orders_seen=0)
    elif status == "failed":
        intervals.record_failure(db, "it", run_id, "CredentialsInvalid")
    if started:
        db.execute("UPDATE mip.order_intervals SET started_at = %s WHERE run_id = %s", (started, run_id))


def test_schedule_intervals_follow_the_cron():
    found = list(intervals.schedule_intervals("@hourly", h(9) + timedelta(minutes=10), h(12)))
    assert found == [(h(10), h(11)), (h(11), h(12))]
    assert list(intervals.schedule_intervals("0 */6 * * *", h(0), h(13))) == [(h(0), h(6)), (h(6), h(12))]


def test_failed_runs_and_untried_intervals_are_gaps_imported_and_running_ones_are_not(clean_orders):
    db = clean_orders
    record(db, "scheduled__03", h(3), h(4), "imported")
    record(db, "scheduled__04", h(4), h(5), "failed")
    record(db, "scheduled__05", h(5), h(6), "failed")
    # 06-08 never ran (DAG paused); a backfill by report covered 08-11 in one run
    record(db, "backfill__08", h(8), h(11), "imported")
    record(db, "scheduled__11", h(11), h(12), "started", started=NOW - timedelta(minutes=20))  # still running
    db.commit()
    found = intervals.gaps(db, "it", "@hourly", NOW - timedelta(days=7), now=NOW)
    assert [(g.start.hour, g.end.hour, g.run_id, g.status) for g in found] == [
        (4, 5, "scheduled__04", "failed"),
        (5, 6, "scheduled__05", "failed"),
        (6, 7, None, None),
        (7, 8, None, None),
    ]
    plan = intervals.repair_plan(found, timedelta(days=31))
    assert [(g.start.hour, g.end.hour, g.run_id) for g in plan] == [
        (4, 5, "scheduled__04"),
        (5, 6, "scheduled__05"),
        (6, 8, None),
    ]


def test_history_before_the_first_run_is_not_a_gap_and_a_partial_window_is(clean_orders):
    db = clean_orders
    assert intervals.gaps(db, "it", "@hourly", NOW - timedelta(days=7), now=NOW) == []
    record(db, "manual__10", h(10), h(11), "imported", covered=h(10) + timedelta(minutes=40))
    db.commit()
    found = intervals.gaps(db, "it", "@hourly", NOW - timedelta(days=7), now=NOW)
    assert [(g.start.hour, g.run_id) for g in found] == [(10, None), (11, None)], "10-11: only 40 minutes imported"


def test_a_started_run_that_never_finished_is_a_gap_once_stale(clean_orders):
    db = clean_orders
    record(db, "scheduled__09", h(9), h(10), "started", started=NOW - timedelta(hours=3))
    db.commit()
    gap = intervals.gaps(db, "it", "@hourly", NOW - timedelta(days=7), now=NOW)[0]
    assert (gap.start, gap.run_id, gap.status) == (h(9), "scheduled__09", "started")
