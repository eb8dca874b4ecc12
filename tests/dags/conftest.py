"""Helpers for DAG tests: the DagBag of ``dags/`` and ``dag.test()`` runs on the session's databases."""

from __future__ import annotations

from datetime import datetime

import pytest


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import ROOT

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="session")
def run_dag(dagbag):
    """Run a DAG with ``dag.test()``; returns the finished DagRun."""

    def run(dag_id: str, logical_date: datetime | None = None, conf: dict | None = None):
        dag = dagbag.get_dag(dag_id)
        assert dag is not None, f"no DAG {dag_id}: {sorted(dagbag.dag_ids)}"
        return dag.test(logical_date=logical_date, run_conf=conf)

    return run


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def skip_reason(dag_run, task_id: str) -> str | None:
    """Why a task skipped, as the grid shows it (the task's XCom ``skipped_because``)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from mip.airflow.common import SKIP_REASON_KEY

    with create_session() as session:
        value = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == SKIP_REASON_KEY,
            )
        )
    return None if value is None else str(value)
