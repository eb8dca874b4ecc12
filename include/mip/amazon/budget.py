"""A rate budget per (seller, SP-API operation), shared by every worker through PostgreSQL.

Each call reserves one token with a single atomic statement (a token bucket in ``mip.rate_budget``,
refilled at the usage plan's rate up to its burst). When the bucket is empty the reservation goes
negative and the caller sleeps until its token exists, so concurrent tasks queue fairly without
polling. The rate follows Amazon's ``x-amzn-RateLimit-Limit`` header when it differs from the plan;
a 429 empties the bucket. One token of the burst is kept in reserve: it absorbs the jitter between
reserving a token here and the request reaching Amazon, which is what keeps normal operation free
of 429s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import psycopg

from mip.amazon.usage_plans import usage_plan
from mip.store.db import one

RESERVE = """
INSERT INTO mip.rate_budget AS b (seller_id, operation, rate, burst, tokens, updated_at)
VALUES (%(seller)s, %(op)s, %(rate)s, %(burst)s, GREATEST(%(burst)s - 1, 1) - 1, clock_timestamp())
ON CONFLICT (seller_id, operation) DO UPDATE SET
    tokens = LEAST(GREATEST(b.burst - 1, 1)::float8,
                   b.tokens + b.rate * EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)) - 1,
    updated_at = clock_timestamp()
RETURNING tokens, rate
"""


class BudgetExhausted(Exception):
    def __init__(self, operation: str, wait: float):
        self.operation, self.wait = operation, wait
        super().__init__(f"the rate budget of {operation} is booked for the next {wait:.0f} s")


class RateBudget:
    """Token buckets of one seller, in ``mip.rate_budget``, reached through ``conn`` (autocommit)."""

    def __init__(self, conn: psycopg.Connection, seller_id: str, *, max_wait: float = 600.0):
        if not conn.autocommit:
            raise ValueError("RateBudget needs an autocommit connection (each reservation commits at once)")
        self.conn, self.seller_id, self.max_wait = conn, seller_id, max_wait
        self._rates: dict[str, float] = {}
        self.waited = 0.0

    def acquire(self, operation: str) -> float:
        """Reserve one call of ``operation``; sleeps until it may be sent. Returns the seconds waited."""
        plan = usage_plan(operation)
        tokens, rate = one(
            self.conn.execute(
                RESERVE, {"seller": self.seller_id, "op": operation, "rate": plan.rate, "burst": plan.burst}
            )
        )
        self._rates[operation] = rate
        if tokens >= 0:
            return 0.0
        if -tokens / rate > self.max_wait:
            self._release(operation)
            raise BudgetExhausted(operation, -tokens / rate)
        return self._wait_for_token(operation, deficit=-tokens, rate=rate)

    def ready(self, operation: str) -> bool:
        """True when a call of ``operation`` could be sent now without waiting (nothing is reserved)."""
        row = self.conn.execute(
            "SELECT LEAST(GREATEST(burst - 1, 1)::float8,"
            " tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) FROM mip.rate_budget"
            " WHERE seller_id = %s AND operation = %s",
            (self.seller_id, operation),
        ).fetchone()
        return row is None or row[0] >= 1

    def _wait_for_token(self, operation: str, deficit: float, rate: float) -> float:
        """Sleep until ``deficit`` tokens have refilled, following rate changes while asleep (the first
        reservations of a run are booked at the usage plan's rate until Amazon's header corrects it)."""
        waited = 0.0
        while deficit > 1e-9:
            step = min(deficit / rate, 0.25)
            time.sleep(step)
            waited += step
            deficit -= step * rate
            if deficit > 1e-9:
                rate = one(
                    self.conn.execute(
                        "SELECT rate FROM mip.rate_budget WHERE seller_id = %s AND operation = %s",
                        (self.seller_id, operation),
                    )
                )[0]
        self.waited += waited
        return waited

    def _release(self, operation: str) -> None:
        self.conn.execute(
            "UPDATE mip.rate_budget SET tokens = tokens + 1 WHERE seller_id = %s AND operation = %s",
            (self.seller_id, operation),
        )

    def observe(self, operation: str, headers: Mapping[str, str] | None) -> None:
        """Follow Amazon's ``x-amzn-RateLimit-Limit`` when it differs from the stored rate."""
        value = (headers or {}).get("x-amzn-RateLimit-Limit") or (headers or {}).get("x-amzn-ratelimit-limit")
        if not value:
            return
        try:
            rate = float(value)
        except ValueError:
            return
        known = self._rates.get(operation)
        if rate > 0 and (known is None or abs(rate - known) > 1e-9 * max(rate, 1.0)):
            # Bank the refill earned at the old rate before switching to the new one.
            self.conn.execute(
                "UPDATE mip.rate_budget SET tokens = LEAST(GREATEST(burst - 1, 1),"
                " tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at)),"
                " updated_at = clock_timestamp(), rate = %s WHERE seller_id = %s AND operation = %s",
                (rate, self.seller_id, operation),
            )
            self._rates[operation] = rate

    def throttled(self, operation: str) -> None:
        """Amazon answered 429: its bucket is empty, so ours must be too."""
        self.conn.execute(
            "UPDATE mip.rate_budget SET updated_at = clock_timestamp(), tokens = LEAST(0, GREATEST(burst - 1, 1),"
            " tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at))"
            " WHERE seller_id = %s AND operation = %s",
            (self.seller_id, operation),
        )
