"""Waits on Amazon as reschedule-mode sensors whose poke is one domain step (``mip.airflow.adapter.run_step``).

The step answers "done?" (``True``/``False``) and records what it saw; between pokes the sensor holds no worker
slot. Orders, international verification and migration wait on their reports this way, with the one meaning of
a report's end states of ``mip.amazon.reports.ReportState`` (CANCELLED: an empty report; FATAL: fails at once
with the fix), and migration on its feeds and deletions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from airflow.sdk import task


def step_sensor(
    step: Callable[..., bool],
    *,
    task_id: str,
    poke_interval: float,
    timeout: timedelta,
    gateway: bool | Callable[[dict[str, Any]], bool] = True,
    run_options: dict[str, Any] | None = None,
    inputs: Callable[[], dict[str, Any]] | None = None,
    **sensor_options: Any,
) -> Any:
    """A TaskFlow sensor ``(channel_id)`` in reschedule mode, done when ``run_step(step, channel_id, ...)`` is.
    ``run_options`` go to ``run_step`` (``seller``, ``on_failure``), with what ``inputs()`` returns at each poke
    (e.g. the run's Params); ``gateway`` may decide from those inputs; ``sensor_options`` to the sensor
    (``retries``, ``exponential_backoff``, ``max_wait``)."""
    options = run_options or {}

    @task.sensor(
        task_id=task_id,
        poke_interval=poke_interval,
        mode="reschedule",
        timeout=timeout.total_seconds(),
        **sensor_options,
    )
    def poke(channel_id: str) -> Any:
        from airflow.sdk import PokeReturnValue

        from mip.airflow.adapter import run_step

        given = inputs() if inputs is not None else {}
        amazon = gateway(given) if callable(gateway) else gateway
        return PokeReturnValue(is_done=bool(run_step(step, channel_id, gateway=amazon, **options, **given)))

    poke.__doc__ = step.__doc__
    return poke
