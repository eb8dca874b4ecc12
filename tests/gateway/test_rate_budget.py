"""The shared rate budget on a real PostgreSQL, used by two processes at once."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from mip.amazon.budget import BudgetExhausted, RateBudget
from mip.amazon.usage_plans import usage_plan
from mip.store.db import connect

OPERATION = "getOrderItems"  # usage plan 0.5/s, burst 30
SELLER = "ABUDGETTEST0001"


def _reserve(url: str, seller: str, count: int, queue) -> None:
    with connect(url, autocommit=True) as conn:
        budget = RateBudget(conn, seller)
        stamps = []
        for _ in range(count):
            budget.acquire(OPERATION)
            stamps.append(time.time())
        queue.put(stamps)


@pytest.fixture
def fast_bucket(mip_url):
    """The getOrderItems bucket of a test seller, running 100x faster (as under a time-scaled sandbox)."""
    with connect(mip_url, autocommit=True) as conn:
        conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = %s", (SELLER,))
        RateBudget(conn, SELLER).acquire(OPERATION)  # creates the row from the usage plan
        conn.execute("UPDATE mip.rate_budget SET rate = 50, tokens = burst - 1 WHERE seller_id = %s", (SELLER,))
    return 50.0


def test_two_processes_share_one_bucket_without_exceeding_it(mip_url, fast_bucket):
    rate = fast_bucket
    burst = usage_plan(OPERATION).burst
    capacity = burst - 1  # one token kept in reserve against network jitter
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    per_process = 60
    processes = [context.Process(target=_reserve, args=(mip_url, SELLER, per_process, queue)) for _ in range(2)]
    started = time.time()
    for p in processes:
        p.start()
    stamps = sorted(queue.get(timeout=300) + queue.get(timeout=300))  # spawn and import: slow on a loaded machine
    for p in processes:
        p.join(10)
    total = len(stamps)
    elapsed = stamps[-1] - started
    minimum = (total - capacity) / rate
    assert elapsed >= minimum * 0.95, f"{total} calls in {elapsed:.2f}s beat the budget's minimum {minimum:.2f}s"
    # Never more than capacity + rate * window calls in any window (the token bucket's promise).
    for i, first in enumerate(stamps):
        for j in range(i + 1, len(stamps)):
            window = stamps[j] - first
            assert j - i + 1 <= capacity + rate * window + 1.5, f"{j - i + 1} calls within {window:.3f}s"


def test_rate_follows_amazons_header_and_429_empties_the_bucket(db, mip_url):
    with connect(mip_url, autocommit=True) as conn:
        conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = 'AHEADER00001'")
        budget = RateBudget(conn, "AHEADER00001")
        budget.acquire("getOrders")
        budget.observe("getOrders", {"x-amzn-RateLimit-Limit": "1.002"})
        budget.throttled("getOrders")
        rate, tokens = conn.execute(
            "SELECT rate, tokens FROM mip.rate_budget WHERE seller_id = 'AHEADER00001'"
        ).fetchone()
    assert rate == pytest.approx(1.002)
    assert tokens <= 0


def test_a_reservation_too_far_ahead_is_refused_and_given_back(mip_url):
    with connect(mip_url, autocommit=True) as conn:
        conn.execute("DELETE FROM mip.rate_budget WHERE seller_id = 'AFARAHEAD0001'")
        budget = RateBudget(conn, "AFARAHEAD0001", max_wait=5)
        budget.acquire("createReport")
        conn.execute("UPDATE mip.rate_budget SET tokens = -10 WHERE seller_id = 'AFARAHEAD0001'")
        with pytest.raises(BudgetExhausted, match="booked for the next"):
            budget.acquire("createReport")  # 0.0167/s: 11 tokens short is ~11 minutes away
        tokens = conn.execute("SELECT tokens FROM mip.rate_budget WHERE seller_id = 'AFARAHEAD0001'").fetchone()[0]
    assert tokens == pytest.approx(-10, abs=0.05)


def test_budget_needs_autocommit(db):
    with pytest.raises(ValueError, match="autocommit"):
        RateBudget(db, "X")
