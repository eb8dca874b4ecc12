"""Failures inside tasks: permanent Amazon errors fail the task at once, transient ones are retried;
``TaskFailure`` fails at once and tells the alert (``mip.airflow.alerts``) what the message cannot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk.exceptions import AirflowFailException

from mip.amazon.errors import AmazonError


class TaskFailure(AirflowFailException):
    """A failure no retry mends, with what its alert names: the fix, the migration plan, and whether an
    upstream task of the same run already failed (and alerted) for the same reason."""

    def __init__(
        self, message: str, *, fix: str | None = None, plan_id: str | None = None, alerted_upstream: bool = False
    ):
        super().__init__(message)
        self.fix, self.plan_id, self.alerted_upstream = fix, plan_id, alerted_upstream


@contextmanager
def amazon_errors(advice: str | None = None) -> Iterator[None]:
    """Turn a non-retryable AmazonError into AirflowFailException (no retries burned on a revoked token);
    ``advice``, when given, leads the message (the error's own fix does not apply, e.g. to a previous seller)."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except AmazonError as exc:
        if exc.retryable:
            raise
        raise AirflowFailException(f"{advice} (Amazon: {exc})" if advice else str(exc)) from None
