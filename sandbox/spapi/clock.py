"""Time: the absolute clock is the real UTC clock; Amazon's durations run ``time_scale`` times faster.

With ``--time-scale 60`` one Amazon minute (feed processing, BIL copy delay, order status changes,
the getOrders two-minute rule) passes in one real second, and usage-plan rates are 60 times
higher. Timestamps in responses are always real UTC times.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


class Clock:
    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be > 0, got {time_scale}")
        self.time_scale = time_scale

    @staticmethod
    def now() -> float:
        return time.time()

    def real(self, amazon_seconds: float) -> float:
        """Real seconds an Amazon duration takes under the time scale."""
        return amazon_seconds / self.time_scale

    def amazon(self, real_seconds: float) -> float:
        """Amazon seconds that pass during ``real_seconds``."""
        return real_seconds * self.time_scale


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC with seconds precision, as the Orders and Listings APIs print it."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def iso_ms(ts: float | None) -> str | None:
    """ISO 8601 UTC with milliseconds, as the Feeds and Reports APIs print it."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 date-time (``Z``, offsets, fractions, or a bare date) to epoch seconds.

    Naive values are taken as UTC. Raises ValueError with the offending value.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty date-time")
    try:
        dt = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
