"""Amazon errors inside tasks: permanent ones fail the task at once, transient ones are retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mip.amazon.errors import AmazonError


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
