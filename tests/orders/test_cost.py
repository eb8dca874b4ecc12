"""Which path reads a window faster: the estimate from the first getOrders page (pure arithmetic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mip.orders.cost import estimate, floor_seconds

START = datetime(2026, 11, 20, tzinfo=UTC)


def test_a_usage_plan_floor_spends_the_bucket_first():
    # getOrderItems: 0.5 calls/s, burst 30 (one token kept in reserve)
    assert floor_seconds("getOrderItems", 29) == 0
    assert floor_seconds("getOrderItems", 10_029) == pytest.approx(20_000)
    assert floor_seconds("getOrders", 10, tokens=0) == pytest.approx(10 / 0.0167)


def test_a_day_of_ten_thousand_orders_goes_through_the_report():
    # the first page's 100 orders cover 1% of the window
    day = estimate(100, True, START, START + timedelta(days=1), START + timedelta(minutes=14.4), report_minutes=10)
    assert day.orders == 10_000 and day.pages_left == 99
    assert day.paged_seconds == pytest.approx(floor_seconds("getOrderItems", 10_000))  # items dominate pages
    assert day.paged_seconds / 3600 > 5 and day.report_seconds == 600
    assert day.cheaper == "report"
    assert "report" in day.describe()


def test_a_window_that_fits_one_page_is_paged_however_long():
    month = estimate(40, False, START, START + timedelta(days=30), START + timedelta(days=29), report_minutes=10)
    assert (month.orders, month.pages_left, month.cheaper) == (40, 0, "api")


def test_the_break_even_follows_the_report_processing_time():
    hour = estimate(100, True, START, START + timedelta(hours=1), START + timedelta(minutes=20), report_minutes=10)
    assert hour.orders == 300 and hour.cheaper == "api"  # (300 - 29) / 0.5 s = 9 min < 10 min
    slow_reports = estimate(
        100, True, START, START + timedelta(hours=1), START + timedelta(minutes=10), report_minutes=30
    )
    assert slow_reports.orders == 600 and slow_reports.cheaper == "api"
    assert estimate(100, True, START, START + timedelta(hours=1), START + timedelta(minutes=10), 10).cheaper == "report"
