"""Usage plans: a token bucket per (seller, operation) with the model's rate and burst.

The bucket starts full (``burst`` tokens) and refills continuously at ``rate * time_scale`` tokens
per real second, which is how Amazon documents its usage plans. A client pacing itself by the
``x-amzn-RateLimit-Limit`` header never sees a 429.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def effective_rate(self, rate: float) -> float:
        return rate * self.time_scale

    def take(self, seller_id: str, operation_id: str, rate: float, burst: int) -> bool:
        """Spend one token; False when the bucket is empty (the call must be answered 429)."""
        now = time.monotonic()
        refill = rate * self.time_scale
        key = (seller_id, operation_id)
        with self._lock:
            tokens, last = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * refill)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return True
            self._buckets[key] = (tokens, now)
            return False

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def header_value(rate: float) -> str:
    """Format an effective rate for ``x-amzn-RateLimit-Limit`` (plain decimal, no exponent)."""
    text = f"{rate:.6f}".rstrip("0").rstrip(".")
    return text or "0"
