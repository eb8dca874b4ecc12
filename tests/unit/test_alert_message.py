"""What an alert says, from a task's context: the window of a windowed run, several fixes, a long error, the plan."""

from __future__ import annotations

from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from mip.airflow.alerts.message import GENERIC_FIX, MAX_ERROR_CHARS, build_alert, split_fix
from mip.airflow.errors import TaskFailure


def orders_dag() -> DAG:
    return DAG("mip_orders__it", schedule=None, tags=["pipeline:orders", "channel:it", "account:demo", "role:main"])


def test_a_windowed_run_names_its_window_and_the_fix_of_each_problem():
    context = {
        "dag": orders_dag(),
        "run_id": "repair__it__1",
        "params": {"window_start": "2026-11-01T00:00:00+00:00", "window_end": "2026-11-02T00:00:00+00:00"},
        "exception": AirflowFailException("first problem. Fix: first fix\nsecond problem. Fix: second fix\nthird"),
    }
    alert = build_alert(context, "failure", context["exception"])
    assert (alert.channel, alert.account, alert.plan_id) == ("it", "demo", None)
    assert (alert.error, alert.fix) == ("first problem.\nsecond problem.\nthird", "first fix\nsecond fix")
    assert alert.text.splitlines()[1:] == [
        "Where: channel it (account demo)",
        "Interval: 2026-11-01T00:00:00+00:00 to 2026-11-02T00:00:00+00:00 (window (Params))",
        "Error:",
        "- first problem.",
        "- second problem.",
        "- third",
        "Fix:",
        "- first fix",
        "- second fix",
    ]


def test_an_error_without_a_fix_gets_the_generic_one_and_a_long_one_is_cut():
    alert = build_alert({"dag": orders_dag()}, "failure", KeyError("x" * (MAX_ERROR_CHARS + 500)))
    assert alert.fix == GENERIC_FIX
    assert alert.error.startswith("KeyError: 'xxx") and alert.error.endswith("(cut; the whole message is in the log)")
    assert len(alert.error) < MAX_ERROR_CHARS + 100


def test_a_task_failure_carries_its_plan_and_fix():
    failure = TaskFailure("plan it-1 refused: too many deletions", plan_id="it-1", fix="make a new plan")
    alert = build_alert({"dag": orders_dag(), "params": {"approve_plan_id": ""}}, "failure", failure)
    assert (alert.plan_id, alert.fix, alert.subject) == (
        "it-1",
        "make a new plan",
        "[MIP] mip_orders__it failed: channel it (account demo), plan it-1",
    )
    assert split_fix("no fix here") == ("no fix here", None)
