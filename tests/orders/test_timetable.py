"""Logical dates of the orders DAG: a manual run and a backfilled run of the same logical date import one interval.

The cause of a lost hour (tests/orders/test_repair_e2e.py, backfill alone): with Airflow's CronTriggerTimetable
(interval = 1 h) a backfilled tick T gets [T - 1 h, T) but the logical date T - 1 h, while a manual run of L gets
[L - 1 h, L). ``airflow backfill create`` then took the manual run of L for the tick L + 1 h and skipped the hour
[L, L + 1 h). These cases ask Airflow itself (the serialised DAG as the scheduler sees it, and the backfill's own
list of runs) without starting it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

HOUR = timedelta(hours=1)
START = datetime(2026, 12, 4, 23, tzinfo=UTC)


@pytest.fixture
def scheduler_dag(dagbag):
    """mip_orders__it serialised and read back, as the scheduler and ``airflow backfill create`` see it."""
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.get_dag("mip_orders__it")
    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def backfill_infos(dag, from_date: datetime, to_date: datetime):
    from airflow.models.backfill import _get_info_list

    return _get_info_list(from_date=from_date, to_date=to_date, reverse=False, dag=dag)


def test_a_backfilled_run_has_the_logical_date_of_a_manual_run_of_the_same_hour(scheduler_dag):
    infos = backfill_infos(scheduler_dag, START + HOUR, START + 5 * HOUR)
    assert [(i.data_interval.start, i.data_interval.end) for i in infos] == [
        (START + n * HOUR, START + (n + 1) * HOUR) for n in range(5)
    ]
    for info in infos:
        # the REST API and the UI's trigger form: a manual run of L gets infer_manual_data_interval(run_after=L)
        manual = scheduler_dag.timetable.infer_manual_data_interval(run_after=info.logical_date)
        assert (manual.start, manual.end) == (info.data_interval.start, info.data_interval.end)
        assert info.logical_date == info.data_interval.end == info.run_after


def test_a_manual_run_in_the_window_is_skipped_by_the_backfill_for_its_own_hour_only(scheduler_dag):
    """The backfill skips the logical dates that have a run: with a manual run of L, only the hour that run
    imported, [L - 1 h, L), is left out; the others, the hour after L included, get their backfilled runs."""
    manual_date = START + 3 * HOUR
    manual = scheduler_dag.timetable.infer_manual_data_interval(run_after=manual_date)
    infos = backfill_infos(scheduler_dag, START + HOUR, START + 5 * HOUR)
    backfilled = [(i.data_interval.start, i.data_interval.end) for i in infos if i.logical_date != manual_date]
    covered = sorted([*backfilled, (manual.start, manual.end)])
    assert covered == [(START + n * HOUR, START + (n + 1) * HOUR) for n in range(5)]


def test_scheduled_runs_are_dated_by_the_end_of_the_hour_they_import(scheduler_dag):
    import pendulum
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=pendulum.instance(START), latest=None, catchup=True)
    first = scheduler_dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    second = scheduler_dag.timetable.next_dagrun_info(
        last_automated_data_interval=first.data_interval, restriction=restriction
    )
    assert (first.data_interval.start, first.logical_date) == (START - HOUR, START)
    assert (second.data_interval.start, second.logical_date) == (START, START + HOUR)


def test_a_manual_run_imports_the_hour_ending_at_its_logical_date_however_it_was_triggered(scheduler_dag):
    """``airflow dags trigger --logical-date L`` infers the data interval from the trigger time, not from L: the run
    still imports [L - 1 h, L), the hour a backfill dates by L. A run without a logical date keeps its interval."""
    import pendulum

    from mip.orders.window import run_interval

    manual_date = START + 3 * HOUR
    cli = scheduler_dag.timetable.infer_manual_data_interval(run_after=pendulum.instance(START + 30 * HOUR))
    assert (cli.start, cli.end) != (manual_date - HOUR, manual_date)
    assert run_interval(manual_date, cli.start, cli.end, HOUR) == (manual_date - HOUR, manual_date)
    assert run_interval(manual_date, manual_date - HOUR, manual_date, HOUR) == (manual_date - HOUR, manual_date)
    assert run_interval(None, None, None, HOUR) == (None, None)
    assert run_interval(None, START, START + HOUR, HOUR) == (START, START + HOUR)
