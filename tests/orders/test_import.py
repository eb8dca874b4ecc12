"""Importing windows from a sandbox of this module's own (real HTTP, real PostgreSQL), step by step.

Time scale 1200: one Amazon hour passes in three real seconds, so orders move Pending -> Unshipped in
about a second and ship within two minutes. Each test uses its own window of the past so their
orders never meet.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from mip.config import load_topology
from mip.orders.importer import import_window
from mip.orders.window import Window, resolve
from tests.orders.conftest import (
    COMPARED_ITEM,
    COMPARED_ORDER,
    assert_matches_truth,
    generate,
    truth,
    utc,
)

SCALE = 1200.0


@pytest.fixture(scope="module")
def orders_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("orders-spapi"), time_scale=SCALE) as running:
        yield running


@pytest.fixture(scope="module")
def topology():
    return load_topology()


def window_hours_ago(first: float, last: float) -> tuple[float, float, Window]:
    """Purchases in [now - first h, now - first h + 30 min]; the window [now - first h, now - last h)."""
    now = time.time()
    start, end = now - first * 3600, now - last * 3600
    return start, start + 1800, Window(utc(start), utc(end), utc(end))


def xmins(db, table: str, channel_id: str) -> list:
    return db.execute(f"SELECT xmin::text FROM {table} WHERE channel_id = %s ORDER BY 1", (channel_id,)).fetchall()


def test_many_pages_then_the_same_interval_twice_more_rewrites_nothing(
    orders_sandbox, clean_orders, gateway_for, topology
):
    db = clean_orders
    start, end, window = window_hours_ago(40, 39)
    ids = set(generate(orders_sandbox, 250, start, end))
    channel = topology.channel("it")
    gateway = gateway_for(orders_sandbox)
    first = import_window(db, gateway, channel, "run-1", window, path="api")
    pages = db.execute("SELECT count(*) FROM mip.order_pages WHERE run_id = 'run-1' AND kind = 'orders'").fetchone()[0]
    assert pages == 3 and first.orders_seen == 250 and first.loaded["orders_inserted"] == 250
    assert first.api_calls == 3 + 250, "3 getOrders pages + one getOrderItems per order"
    assert assert_matches_truth(db, orders_sandbox, "it", "IT", ids) == 250
    before = (xmins(db, "mip.orders", "it"), xmins(db, "mip.order_items", "it"))
    for run_id in ("run-2", "run-3"):
        again = import_window(db, gateway, channel, run_id, window, path="api")
        assert (again.orders_seen, again.orders_changed, again.api_calls) == (250, 0, 3), "no getOrderItems"
        assert again.loaded["orders_inserted"] + again.loaded["orders_updated"] == 0
    assert (xmins(db, "mip.orders", "it"), xmins(db, "mip.order_items", "it")) == before, "a row was rewritten"
    assert db.execute("SELECT count(*), count(DISTINCT amazon_order_id) FROM mip.orders").fetchone() == (250, 250)
    statuses = db.execute("SELECT run_id, status, orders_seen FROM mip.order_intervals ORDER BY run_id").fetchall()
    assert statuses == [("run-1", "imported", 250), ("run-2", "imported", 250), ("run-3", "imported", 250)]


def test_report_path_gives_the_paging_path_rows(orders_sandbox, clean_orders, gateway_for, topology):
    db = clean_orders
    start, end, window = window_hours_ago(36, 35)
    generate(orders_sandbox, 120, start, end)
    channel = topology.channel("it")
    gateway = gateway_for(orders_sandbox)
    paged = import_window(db, gateway, channel, "by-api", window, path="api")
    reported = import_window(db, gateway, channel, "by-report", window, path="report", report_poll_seconds=0.2)
    assert paged.method == "api" and reported.method == "report"
    kinds = db.execute("SELECT kind, count(*) FROM mip.order_pages WHERE run_id = 'by-report' GROUP BY 1").fetchall()
    assert kinds == [("report", 1)], "no getOrders / getOrderItems on the report path"
    assert reported.api_calls < 10, "createReport, a few getReport polls, getReportDocument"

    def rows(table: str, columns: tuple[str, ...], run_id: str) -> list[tuple]:
        return db.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE run_id = %s ORDER BY 1, 2", (run_id,)
        ).fetchall()

    api_orders = rows("mip.stage_orders", COMPARED_ORDER, "by-api")
    assert len(api_orders) == 120
    assert {r[3] for r in api_orders} >= {"Shipped", "Canceled"}  # Pending/Unshipped: test_normalise
    assert rows("mip.stage_orders", COMPARED_ORDER, "by-report") == api_orders
    assert rows("mip.stage_order_items", COMPARED_ITEM, "by-report") == rows(
        "mip.stage_order_items", COMPARED_ITEM, "by-api"
    )
    assert reported.orders_changed == 0, "the report saw the versions the API path had loaded"

    # the stored pages are enough to rebuild both runs' stage rows without calling Amazon
    from mip.orders.extract import replay
    from mip.runs import RunKey

    before = {
        run_id: (rows("mip.stage_orders", COMPARED_ORDER, run_id), rows("mip.stage_order_items", COMPARED_ITEM, run_id))
        for run_id in ("by-api", "by-report")
    }
    calls = gateway.calls
    for run_id in before:
        replay(db, RunKey(channel, run_id, seller_id=gateway.credentials.seller_id))
    assert gateway.calls == calls
    assert {
        run_id: (rows("mip.stage_orders", COMPARED_ORDER, run_id), rows("mip.stage_order_items", COMPARED_ITEM, run_id))
        for run_id in before
    } == before


def test_a_throttling_storm_loses_no_order(orders_sandbox, clean_orders, gateway_for, topology):
    db = clean_orders
    start, end, window = window_hours_ago(32, 31)
    ids = set(generate(orders_sandbox, 120, start, end))
    gateway = gateway_for(orders_sandbox)
    orders_sandbox.set_faults(throttle_storm={"fraction": 0.3})
    try:
        result = import_window(db, gateway, topology.channel("it"), "storm", window)
    finally:
        orders_sandbox.reset_faults()
    assert gateway.retries > 10, "the storm was felt"
    assert result.orders_seen == 120
    assert_matches_truth(db, orders_sandbox, "it", "IT", ids)


def test_international_listing_orders_land_under_their_own_channel(orders_sandbox, clean_orders, gateway_for, topology):
    db = clean_orders
    start, end, window = window_hours_ago(28, 27)
    by_country = {
        country: set(generate(orders_sandbox, 20, start, end, country=country)) for country in ("IT", "FR", "ES")
    }
    gateway = gateway_for(orders_sandbox)
    for channel_id in ("it", "fr", "es"):
        import_window(db, gateway, topology.channel(channel_id), f"intl-{channel_id}", window)
    for channel_id, country in (("it", "IT"), ("fr", "FR"), ("es", "ES")):
        found = db.execute(
            "SELECT amazon_order_id, marketplace_id FROM mip.orders WHERE channel_id = %s", (channel_id,)
        ).fetchall()
        assert {r[0] for r in found} == by_country[country]
        assert {r[1] for r in found} == {topology.channel(channel_id).marketplace.marketplace_id}
        assert_matches_truth(db, orders_sandbox, channel_id, country, by_country[country])


@pytest.fixture
def slower_sandbox(tmp_path):
    """Time scale 400: orders stay Pending 0.3 to 4.5 s, ship 18 s to 5 minutes later."""
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path / "slower-spapi", time_scale=400.0) as running:
        yield running


def test_status_changes_over_time_update_the_rows(slower_sandbox, clean_orders, gateway_for, topology):
    """Pending -> Unshipped -> Shipped (and Canceled) as Amazon moves the orders, newer versions winning."""
    db = clean_orders
    channel = topology.channel("it")
    gateway = gateway_for(slower_sandbox)
    now = time.time()
    ids = set(generate(slower_sandbox, 200, now - 2, now - 1))
    seen: dict[str, list[str]] = {order_id: [] for order_id in ids}

    def import_now(run_id: str) -> None:
        # the sandbox's two minutes are 0.3 s at this scale; our window rule is tested on its own below
        before = datetime.now(UTC) - timedelta(seconds=0.4)
        import_window(db, gateway, channel, run_id, Window(utc(now - 3600), before, before))
        stored = dict(
            db.execute(
                "SELECT amazon_order_id, order_status FROM mip.orders WHERE amazon_order_id = ANY(%s)", (sorted(ids),)
            ).fetchall()
        )
        expected = truth(slower_sandbox)
        for order_id in ids:
            if order_id in stored and (not seen[order_id] or seen[order_id][-1] != stored[order_id]):
                seen[order_id].append(stored[order_id])
            changed_since = datetime.fromisoformat(expected[order_id]["LastUpdateDate"].replace("Z", "+00:00"))
            if changed_since <= before - timedelta(seconds=1):
                assert stored.get(order_id) == expected[order_id]["OrderStatus"], order_id

    import_now("t1")  # at once: most orders are still Pending
    time.sleep(5)
    import_now("t2")  # Unshipped (or Canceled)
    time.sleep(35)
    import_now("t3")  # some shipped
    paths = {tuple(p) for p in seen.values()}
    assert any(p[:2] == ("Pending", "Unshipped") for p in paths), paths
    assert any(p[-1] == "Shipped" and "Unshipped" in p for p in paths), paths
    assert any(p[-1] == "Canceled" for p in paths), paths
    assert all(len(p) == len(set(p)) for p in paths), "a status went back to an older one"
    priced = db.execute(
        "SELECT count(*) FROM mip.orders WHERE amazon_order_id = ANY(%s) AND order_status = 'Shipped'"
        " AND order_total IS NOT NULL",
        (sorted(ids),),
    ).fetchone()[0]
    assert priced > 0


def test_an_older_version_never_overwrites_a_newer_one(orders_sandbox, clean_orders, gateway_for, topology):
    db = clean_orders
    start, end, window = window_hours_ago(24, 23)
    generate(orders_sandbox, 30, start, end)
    channel = topology.channel("it")
    gateway = gateway_for(orders_sandbox)
    import_window(db, gateway, channel, "newer", window)
    db.execute(
        "UPDATE mip.orders SET last_update_date = last_update_date + interval '1 day', order_status = 'Shipped'"
        " WHERE channel_id = 'it'"
    )
    db.commit()
    again = import_window(db, gateway, channel, "older", window)
    assert again.orders_changed == 0 and again.loaded["orders_updated"] == 0
    assert db.execute("SELECT count(*) FROM mip.orders WHERE order_status <> 'Shipped'").fetchone()[0] == 0


def test_the_two_minute_rule(orders_sandbox, clean_orders, gateway_for, topology):
    now = datetime.now(UTC)
    open_window = resolve(None, None, now - timedelta(hours=1), now + timedelta(minutes=5), now=now)
    assert open_window.before == now - timedelta(minutes=2) and not open_window.complete
    closed = resolve(None, None, now - timedelta(hours=2), now - timedelta(hours=1), now=now)
    assert closed.before == closed.end and closed.complete
    with pytest.raises(ValueError, match="less than two minutes ago"):
        resolve(None, None, now - timedelta(seconds=30), now + timedelta(hours=1), now=now)

    # Amazon (here the sandbox) refuses a LastUpdatedBefore later than two minutes ago ...
    from mip.amazon import errors

    gateway = gateway_for(orders_sandbox)
    too_late = Window(now - timedelta(hours=1), now + timedelta(minutes=1), now + timedelta(minutes=1))
    with pytest.raises(errors.AmazonRequestRejected, match="at least two minutes before"):
        import_window(clean_orders, gateway, topology.channel("it"), "too-late", too_late)
    assert clean_orders.execute("SELECT status FROM mip.order_intervals WHERE run_id = 'too-late'").fetchone() == (
        "failed",
    )
    # ... and a run of a window still open imports up to now - 2 min and records what it covered
    import_window(clean_orders, gateway, topology.channel("it"), "open", open_window)
    covered = clean_orders.execute(
        "SELECT interval_end - covered_end FROM mip.order_intervals WHERE run_id = 'open'"
    ).fetchone()[0]
    assert covered == timedelta(minutes=7)


def test_a_cancelled_orders_report_imports_nothing_and_a_fatal_one_fails_the_interval(
    orders_sandbox, clean_orders, gateway_for, topology
):
    """The one meaning of mip.amazon.reports: CANCELLED (Amazon: no order in the window) imports an empty window;
    FATAL fails at once with the fix and the interval is recorded failed (the repair DAG re-runs it)."""
    from mip.amazon.reports import REPORT_FIX, ReportFatal

    db = clean_orders
    gateway = gateway_for(orders_sandbox)
    channel = topology.channel("it")
    start, end, window = window_hours_ago(80, 79)
    generate(orders_sandbox, 5, start, end)
    orders_sandbox.set_faults(cancelled_reports=1)
    empty = import_window(db, gateway, channel, "cancelled", window, path="report", report_poll_seconds=0.2)
    assert (empty.method, empty.orders_seen, empty.loaded["orders_inserted"]) == ("report", 0, 0)
    row = db.execute("SELECT status, orders_seen FROM mip.order_intervals WHERE run_id = 'cancelled'").fetchone()
    assert row == ("imported", 0)

    orders_sandbox.set_faults(fatal_reports=1)
    with pytest.raises(ReportFatal, match=r"orders report \d+ \(FATAL\)") as failed:
        import_window(db, gateway, channel, "fatal", window, path="report", report_poll_seconds=0.2)
    assert not failed.value.retryable and REPORT_FIX in str(failed.value)
    status, error = db.execute("SELECT status, error FROM mip.order_intervals WHERE run_id = 'fatal'").fetchone()
    assert status == "failed" and "(FATAL)" in error
    # the next report is not affected: the same window imports its orders
    again = import_window(db, gateway, channel, "again", window, path="report", report_poll_seconds=0.2)
    assert again.orders_seen == 5
