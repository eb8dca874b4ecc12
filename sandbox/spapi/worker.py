"""The background worker: moves Amazon's clock-driven state along.

Every ``tick_seconds`` (or at once when a handler kicks it) it applies due order status changes,
Build International Listings copies, feed and report processing, and the background order
generation of ``--orders-per-hour``. It runs in its own thread with its own SQLite connection,
so a 25,000-message feed never blocks the HTTP server.
"""

from __future__ import annotations

import logging
import threading
import time

from sandbox.spapi import bil
from sandbox.spapi.feeds import processing as feeds
from sandbox.spapi.notifications import delivery as notifications
from sandbox.spapi.orders.generate import advance, generate
from sandbox.spapi.reports import api as reports
from sandbox.spapi.state import State

log = logging.getLogger("sandbox.spapi.worker")


class Worker(threading.Thread):
    def __init__(self, state: State) -> None:
        super().__init__(name="sandbox-worker", daemon=True)
        self.state = state
        self._stop_event = threading.Event()
        self._order_credit: dict[tuple[str, str], float] = {}
        self._last_generation = time.time()
        self._step_lock = threading.Lock()

    def stop(self) -> None:
        self._stop_event.set()
        self.state.kick()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.state.wakeup.wait(self.state.settings.tick_seconds)
            self.state.wakeup.clear()
            try:
                self.step()
            except Exception:  # keep the sandbox alive; the log says what failed
                log.exception("background step failed")

    def step(self) -> None:
        """One pass over everything that is due (also called by ``POST /_sandbox/tick``)."""
        with self._step_lock:
            state = self.state
            advance(state)
            bil.apply_due(state)
            feeds.tick(state)
            reports.tick(state)
            self.generate_orders()
            notifications.deliver(state)

    def generate_orders(self) -> None:
        per_hour = self.state.settings.orders_per_hour
        now = time.time()
        elapsed, self._last_generation = now - self._last_generation, now
        if per_hour <= 0:
            return
        rate = per_hour * self.state.clock.time_scale / 3600.0  # orders per real second per marketplace
        pairs = self.state.db.query(
            "SELECT DISTINCT l.seller_id, l.marketplace_id FROM listings l JOIN participations p "
            "ON p.seller_id = l.seller_id AND p.marketplace_id = l.marketplace_id AND p.participating = 1 "
            "WHERE l.buyable = 1"
        )
        for pair in pairs:
            key = (pair["seller_id"], pair["marketplace_id"])
            credit = self._order_credit.get(key, 0.0) + elapsed * rate
            count = int(credit)
            self._order_credit[key] = credit - count
            if count:
                try:
                    generate(self.state, key[0], key[1], count, now - elapsed, now)
                except ValueError as exc:
                    log.warning("background orders for %s/%s: %s", key[0], key[1], exc)
