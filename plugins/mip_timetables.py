"""Registers the orders DAGs' timetable (mip.airflow.timetables): Airflow serialises a DAG whose timetable is
not one of its own only when a plugin names it."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from mip.airflow.timetables import PeriodEndTimetable


class MipTimetablesPlugin(AirflowPlugin):
    name = "mip_timetables"
    timetables = [PeriodEndTimetable]  # noqa: RUF012 (AirflowPlugin's own attribute)
