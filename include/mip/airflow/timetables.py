"""The orders DAGs' timetable: a run with logical date L imports the schedule period ending at L.

Airflow's ``CronTriggerTimetable(interval=period)`` gives a tick at T the data interval [T - period, T)
but the *logical date* T - period (``DagRunInfo.logical_date`` is the interval's start), while a manual
run triggered with logical date L gets [L - period, L) (``infer_manual_data_interval(run_after=L)``). The
two disagree by one period: ``airflow backfill create`` then finds the manual run of L under the
logical date of the *next* hour's tick, counts that hour as done and nobody imports it.

``PeriodEndTimetable`` keeps the ticks, run ids and data intervals of ``CronTriggerTimetable`` and makes
the logical date of a scheduled or backfilled run its tick, the end of its interval: scheduled,
backfilled and manual runs of the same logical date cover the same interval, and a backfill skips a
logical date only for a run that imported that very interval. Registered by plugins/mip_timetables.py
(Airflow serialises only the timetables a plugin names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.timetables.base import DagRunInfo
from airflow.timetables.trigger import CronTriggerTimetable

if TYPE_CHECKING:
    from airflow.timetables.base import TimeRestriction


class PeriodEndRunInfo(DagRunInfo):
    """A DagRunInfo whose logical date is the end of its data interval (its tick), not the start."""

    __slots__ = ()

    @property
    def logical_date(self):
        return self.data_interval.end if self.data_interval else None


def period_end(info: DagRunInfo | None) -> PeriodEndRunInfo | None:
    return None if info is None else PeriodEndRunInfo(*info)


class PeriodEndTimetable(CronTriggerTimetable):
    """``CronTriggerTimetable`` whose runs' logical date is the end of the period they import."""

    def next_dagrun_info(
        self, *, last_automated_data_interval: Any, restriction: TimeRestriction
    ) -> PeriodEndRunInfo | None:
        return period_end(
            super().next_dagrun_info(last_automated_data_interval=last_automated_data_interval, restriction=restriction)
        )

    def next_dagrun_info_v2(
        self, *, last_dagrun_info: DagRunInfo | None, restriction: TimeRestriction
    ) -> PeriodEndRunInfo | None:
        return period_end(super().next_dagrun_info_v2(last_dagrun_info=last_dagrun_info, restriction=restriction))

    def next_run_info_from_dag_model(self, *, dag_model: Any) -> PeriodEndRunInfo | None:
        return period_end(super().next_run_info_from_dag_model(dag_model=dag_model))

    def run_info_from_dag_run(self, *, dag_run: Any) -> PeriodEndRunInfo:
        return period_end(super().run_info_from_dag_run(dag_run=dag_run))  # type: ignore[return-value]
