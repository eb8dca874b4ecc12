"""Gaps in mip.order_intervals: what the repair DAG re-runs, per seller, with no horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mip.orders import intervals
from mip.orders.sellers import SellerPeriod, seller_for_window, seller_periods
from mip.orders.window import Window

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
OLD, NEW = "A1MIPDEMOSELLER", "A3MIPNEWSELLER"
ONE_SELLER = [SellerPeriod(OLD, None, None)]


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
    seller: str = OLD,
) -> None:
    window = Window(start, end, covered or end)
    intervals.record_start(
        db, "it", run_id, "mip_orders__it", start, window, "api", seller_id=seller, account_id="demo"
    )
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
    found = intervals.gaps(db, "it", "@hourly", ONE_SELLER, now=NOW)
    assert [(g.start.hour, g.end.hour, g.run_id, g.status) for g in found] == [
        (4, 5, "scheduled__04", "failed"),
        (5, 6, "scheduled__05", "failed"),
        (6, 7, None, None),
        (7, 8, None, None),
    ]
    plan = intervals.repair_plan(found, timedelta(days=31), max_reruns=48)
    assert [(g.start.hour, g.end.hour, g.run_id) for g in plan] == [
        (4, 5, "scheduled__04"),
        (5, 6, "scheduled__05"),
        (6, 8, None),
    ]


def test_history_before_the_first_run_is_not_a_gap_and_a_partial_window_is(clean_orders):
    db = clean_orders
    assert intervals.gaps(db, "it", "@hourly", ONE_SELLER, now=NOW) == []
    record(db, "manual__10", h(10), h(11), "imported", covered=h(10) + timedelta(minutes=40))
    db.commit()
    found = intervals.gaps(db, "it", "@hourly", ONE_SELLER, now=NOW)
    assert [(g.start.hour, g.run_id) for g in found] == [(10, None), (11, None)], "10-11: only 40 minutes imported"


def test_a_started_run_that_never_finished_is_a_gap_once_stale(clean_orders):
    db = clean_orders
    record(db, "scheduled__09", h(9), h(10), "started", started=NOW - timedelta(hours=3))
    db.commit()
    gap = intervals.gaps(db, "it", "@hourly", ONE_SELLER, now=NOW)[0]
    assert (gap.start, gap.run_id, gap.status) == (h(9), "scheduled__09", "started")


def switch(db, at: datetime, old: str = OLD, new: str = NEW) -> None:
    db.execute(
        "INSERT INTO mip.account_credentials_history (account_id, seller_id, old_seller_id, authorized_at, source, "
        "actor, recorded_at) VALUES ('demo', %s, %s, %s, 'cli', 'test', %s)",
        (new, old, at, at),
    )


def test_a_switch_closes_the_old_sellers_hours_and_opens_the_new_ones(clean_orders):
    db = clean_orders
    db.execute("DELETE FROM mip.account_credentials_history WHERE account_id = 'demo'")
    switched = h(10) + timedelta(minutes=17)
    switch(db, switched)
    # a re-authorization of the old seller is no switch
    db.execute(
        "INSERT INTO mip.account_credentials_history (account_id, seller_id, old_seller_id, authorized_at, source, "
        "actor) VALUES ('demo', %s, NULL, now(), 'cli:previous-seller', 'test')",
        (OLD,),
    )
    periods = seller_periods(db, "demo", NEW)
    assert periods == [SellerPeriod(OLD, None, switched), SellerPeriod(NEW, switched, None)]
    assert seller_for_window(periods, h(10)).seller_id == OLD
    assert seller_for_window(periods, switched).seller_id == OLD, "a window ending at the switch is the old one's"
    assert seller_for_window(periods, h(11)).seller_id == NEW

    record(db, "scheduled__08", h(7), h(8), "imported")
    record(db, "scheduled__09", h(8), h(9), "failed")  # the outage: the old seller's token expired
    # what the old code did: the hour re-run with the new seller's account, "imported"
    record(db, "repair_with_new", h(8), h(9), "imported", seller=NEW)
    record(db, "scheduled__10", h(9), h(10), "imported")
    record(db, "scheduled__11", h(10), h(11), "imported", seller=NEW)  # after the switch: the new seller's
    db.commit()
    found = intervals.gaps(db, "it", "@hourly", periods, now=NOW)
    assert [(g.seller_id, g.start, g.end, g.run_id) for g in found] == [
        (OLD, h(8), h(9), "scheduled__09"),  # read for the new seller: not the old seller's import
        (OLD, h(10), switched, None),  # the old seller's part of the switch's hour: no run read it for them
        (NEW, h(11), h(12), None),
    ]
    plan = intervals.repair_plan(found, timedelta(days=31), max_reruns=48)
    assert [(g.seller_id, g.start, g.end, g.run_id) for g in plan] == [
        (OLD, h(8), h(9), "scheduled__09"),
        (OLD, h(10), switched, None),
        (NEW, h(11), h(12), None),
    ]


def test_there_is_no_horizon_and_a_long_outage_becomes_report_windows(clean_orders):
    db = clean_orders
    first = h(0, day=1) - timedelta(days=30)  # 2026-10-02: 49 days before NOW
    record(db, "first", first, first + timedelta(hours=1), "imported")
    for n in range(60):  # 60 failed hourly runs, then nothing ran at all
        start = first + timedelta(days=2, hours=n)
        record(db, f"failed__{n}", start, start + timedelta(hours=1), "failed")
    db.commit()
    found = intervals.gaps(db, "it", "@hourly", ONE_SELLER, now=NOW)
    expected_hours = int((h(12) - (first + timedelta(hours=1))).total_seconds() // 3600)
    assert len(found) == expected_hours and found[0].start == first + timedelta(hours=1)
    assert sum(1 for g in found if g.run_id) == 60
    plan = intervals.repair_plan(found, timedelta(days=31), max_reruns=48)
    # more failed runs than max_reruns: one run per 31 days instead of 60 re-runs in place
    assert [(g.start, g.end, g.run_id) for g in plan] == [
        (first + timedelta(hours=1), first + timedelta(days=31, hours=1), None),
        (first + timedelta(days=31, hours=1), h(12), None),
    ]
    few = intervals.repair_plan(found, timedelta(days=31), max_reruns=100)
    assert sum(1 for g in few if g.run_id) == 60, "below the limit failed runs are re-run in place"
