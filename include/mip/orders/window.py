"""The window a run imports, and Amazon's two-minute rule.

A run imports the orders Amazon *updated* in [start, end): LastUpdatedAfter = start,
LastUpdatedBefore = min(end, now - 2 minutes) (Amazon refuses a LastUpdatedBefore later than two
minutes ago). Which path reads the window (paging or the orders report) is chosen by cost:
``mip.orders.cost``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)
AMAZON_DELAY = timedelta(minutes=2)


class WindowError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # asked for (exclusive)
    before: datetime  # LastUpdatedBefore sent: min(end, now - 2 min), never before start

    @property
    def complete(self) -> bool:
        """True when the whole window was closed when it was imported."""
        return self.before >= self.end


def parse_instant(value: str | datetime, name: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise WindowError(
                f"{name} {value!r} is not an ISO 8601 date-time; write e.g. 2026-11-20T00:00:00+00:00"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run_interval(
    logical_date: datetime | None,
    interval_start: datetime | None,
    interval_end: datetime | None,
    period: timedelta | None,
) -> tuple[datetime | None, datetime | None]:
    """The interval a manual run imports when no window Param is given: the period ending at its logical date.

    A manual run triggered through the REST API or the UI has that data interval already;
    ``airflow dags trigger --logical-date L`` infers it from the trigger *time* instead: such a run still imports
    [L - period, L), the interval a backfill dates by L. Without a logical date (or a period) the data interval
    stays (None: no window). Scheduled and backfilled runs keep the data interval their timetable gave them.
    """
    if logical_date is None or period is None:
        return interval_start, interval_end
    interval = (logical_date - period, logical_date)
    if interval != (interval_start, interval_end):
        log.warning(
            "the run's data interval [%s, %s) is not the period ending at its logical date %s (`airflow dags "
            "trigger` infers it from the trigger time): importing [%s, %s), the interval a backfill dates by it",
            interval_start,
            interval_end,
            logical_date,
            *interval,
        )
    return interval


def resolve(
    window_start: str | datetime | None,
    window_end: str | datetime | None,
    interval_start: datetime | None,
    interval_end: datetime | None,
    now: datetime | None = None,
) -> Window:
    """The run's window: the Params ``window_start``/``window_end`` when given, else the data interval."""
    now = now or datetime.now(UTC)
    if window_start or window_end:
        if not (window_start and window_end):
            raise WindowError("give both window_start and window_end (ISO 8601), or neither to use the data interval")
        start, end = parse_instant(window_start, "window_start"), parse_instant(window_end, "window_end")
    elif interval_start is not None and interval_end is not None:
        start, end = interval_start, interval_end
    else:
        raise WindowError(
            "this run has no data interval (triggered without a logical date) and no window_start/window_end "
            "Params; trigger it with a logical date or give the window"
        )
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise WindowError(f"the window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    if start > now - AMAZON_DELAY:
        raise WindowError(
            f"the window starts at {start.isoformat()}, less than two minutes ago: Amazon has nothing to return yet"
        )
    return Window(start=start, end=end, before=min(end, now - AMAZON_DELAY))
