"""The import chooses its path by cost and overlaps getOrderItems with getOrders paging.

A sandbox of its own at time scale 20: getOrders refills one token every 3 s of real time, slow
enough that the overlap is visible in the order pages' timestamps whatever the machine's speed. An
order's statuses change up to 60 Amazon hours (3 real hours) after its purchase: the windows end
after the last change of the orders they hold.
"""

from __future__ import annotations

import time

import pytest

from mip.config import load_topology
from mip.orders.importer import import_window
from tests.orders.conftest import DEMO, assert_matches_truth, generate
from tests.orders.test_import import window_hours_ago

SCALE = 20.0


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory):
    from sandbox.testing import run_sandbox

    with run_sandbox(tmp_path_factory.mktemp("orders-paths-spapi"), time_scale=SCALE) as running:
        yield running


def test_a_window_the_first_page_shows_to_be_large_is_read_through_the_report(slow_sandbox, clean_orders, gateway_for):
    db = clean_orders
    now = time.time()
    ids = set(generate(slow_sandbox, 1000, now - 30 * 3600, now - 10 * 3600))
    _, _, window = window_hours_ago(30, 6)
    result = import_window(
        db, gateway_for(slow_sandbox), load_topology().channel("it"), "day", window, report_poll_seconds=0.2
    )
    assert result.method == "report", "about 1,000 orders: 32 minutes of getOrderItems against a 10-minute report"
    assert db.execute("SELECT method FROM mip.order_intervals WHERE run_id = 'day'").fetchone() == ("report",)
    kinds = db.execute("SELECT kind, count(*) FROM mip.order_pages WHERE run_id = 'day' GROUP BY 1").fetchall()
    assert kinds == [("report", 1)], "the first getOrders page is dropped: the report brings its orders"
    assert result.amazon_seconds > 0 and result.local_seconds > 0
    assert assert_matches_truth(db, slow_sandbox, "it", "IT", ids) == 1000


def test_order_items_are_fetched_while_getorders_waits_for_its_next_page(slow_sandbox, clean_orders, gateway_for):
    db = clean_orders
    start, end, window = window_hours_ago(50, 46)
    ids = set(generate(slow_sandbox, 250, start, end))
    gateway = gateway_for(slow_sandbox)
    # an empty getOrders bucket: every page waits 3 s for its token
    gateway.budget.conn.execute(
        "INSERT INTO mip.rate_budget (seller_id, operation, rate, burst, tokens, updated_at) "
        "VALUES (%s, 'getOrders', %s, 20, 0, clock_timestamp())",
        (DEMO, 0.0167 * SCALE),
    )
    result = import_window(db, gateway, load_topology().channel("it"), "overlap", window, path="api")
    assert result.method == "api" and result.api_calls == 3 + 250
    items_before_last_page = db.execute(
        "SELECT count(*) FROM mip.order_pages WHERE run_id = 'overlap' AND kind = 'items' AND fetched_at < "
        "(SELECT max(fetched_at) FROM mip.order_pages WHERE run_id = 'overlap' AND kind = 'orders')"
    ).fetchone()[0]
    assert items_before_last_page > 0, "getOrderItems waited for the last getOrders page"
    assert assert_matches_truth(db, slow_sandbox, "it", "IT", ids) == 250
