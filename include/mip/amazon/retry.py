"""The one retry policy of every request MIP sends to Amazon: SP-API calls through the gateway and
the PUT of a feed document to its pre-signed URL.

An attempt that may succeed when repeated raises ``Retry`` (why, and the error to raise when the
policy gives up); anything else it raises ends the call at once. Between attempts the policy waits
with exponential backoff and full jitter (uniform in [0, min(max_delay, base_delay * 2^n)] after the
n-th failure), at most ``max_attempts`` attempts and never past ``max_elapsed`` seconds since the
first (a wait that would end later gives up instead). Expressed with tenacity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay
from tenacity import wait_random_exponential as full_jitter

log = logging.getLogger(__name__)
Result = TypeVar("Result")


class Retry(Exception):
    """Raised by an attempt that may succeed when repeated; ``final`` is raised when the retries run out."""

    def __init__(self, reason: str, final: Exception):
        super().__init__(reason)
        self.reason, self.final = reason, final


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_elapsed: float = 900.0
    timeout: float = 60.0  # seconds per HTTP request (the policy's callers pass it to their clients)

    def retrying(self, on_retry: Callable[[Retry, int, float], None] | None = None) -> Retrying:
        """A tenacity controller for one call; ``on_retry(reason, failed attempts, wait)`` before each wait."""

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                failure = state.outcome.exception()
                assert isinstance(failure, Retry)
                on_retry(failure, state.attempt_number, state.upcoming_sleep)

        return Retrying(
            retry=retry_if_exception_type(Retry),
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_elapsed),
            # full jitter over base * 2^n after the n-th failure (tenacity counts from base * 2^0)
            wait=full_jitter(multiplier=2 * self.base_delay, max=self.max_delay),
            before_sleep=before_sleep,
            reraise=True,
        )

    def run(self, attempt: Callable[[], Result], on_retry: Callable[[Retry, int, float], None] | None = None) -> Result:
        """``attempt()`` under the policy: its result, or the ``final`` error of its last ``Retry``."""
        try:
            return self.retrying(on_retry)(attempt)
        except Retry as exc:
            raise exc.final from None
