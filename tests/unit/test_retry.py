"""``mip.amazon.retry.RetryPolicy``: the one retry policy of gateway calls and document uploads.

No wall clock: a zero base delay makes every wait 0 s, and the waits the policy chose are recorded.
"""

from __future__ import annotations

import pytest

from mip.amazon.retry import Retry, RetryPolicy


class Unavailable(Exception):
    pass


def flaky(failures: int, calls: list[int]):
    """An attempt that fails ``failures`` times with a Retry, then answers."""

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise Retry(f"5xx number {len(calls)}", Unavailable("Amazon is unavailable"))
        return "answer"

    return attempt


def test_retries_until_the_attempt_answers():
    calls: list[int] = []
    waits: list[tuple[str, int, float]] = []
    policy = RetryPolicy(max_attempts=5, base_delay=0)
    assert policy.run(flaky(3, calls), on_retry=lambda f, n, d: waits.append((str(f), n, d))) == "answer"
    assert len(calls) == 4
    assert waits == [("5xx number 1", 1, 0), ("5xx number 2", 2, 0), ("5xx number 3", 3, 0)]


def test_gives_up_after_max_attempts_with_the_final_error():
    calls: list[int] = []
    with pytest.raises(Unavailable, match="Amazon is unavailable"):
        RetryPolicy(max_attempts=3, base_delay=0).run(flaky(10, calls))
    assert len(calls) == 3


def test_an_error_that_is_no_retry_ends_the_call_at_once():
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise ValueError("credentials invalid")

    with pytest.raises(ValueError, match="credentials invalid"):
        RetryPolicy(max_attempts=8, base_delay=0).run(attempt)
    assert calls == [1]


def test_a_wait_that_would_end_after_max_elapsed_gives_up_instead():
    calls: list[int] = []
    # the first attempt alone takes longer than 1 ns, so any wait would end after max_elapsed
    policy = RetryPolicy(max_attempts=8, base_delay=0, max_elapsed=1e-9)
    with pytest.raises(Unavailable):
        policy.run(flaky(10, calls))
    assert len(calls) == 1


def test_waits_are_full_jitter_bounded_by_max_delay():
    retrying = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=5.0).retrying()
    state = type("State", (), {})()
    for failures, bound in ((1, 2.0), (2, 4.0), (3, 5.0), (6, 5.0)):
        state.attempt_number = failures
        drawn = [retrying.wait(state) for _ in range(200)]
        assert all(0 <= d <= bound for d in drawn), (failures, max(drawn))
        assert max(drawn) > bound / 2, "the draws spread over the interval"
