"""One window imported start to finish in this process: the DAG's steps, ``mip.orders.steps.SEQUENCE``.

``mip_orders__<channel>`` runs these steps as separate tasks (the report wait as a reschedule-mode
sensor); this module runs the same functions in the same order for the command line, benchmarks and
tests, polling the report with a sleep between getReport calls (each call still goes through the rate
budget).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mip.amazon.gateway import SpApiGateway
from mip.config import Channel
from mip.orders import gate, steps
from mip.orders.window import Window
from mip.runs import RunKey


@dataclass
class ImportResult:
    method: str
    orders_seen: int
    orders_changed: int
    rejected: int
    loaded: dict[str, int]
    api_calls: int
    seconds: dict[str, float] = field(default_factory=dict)
    rejected_orders: list[dict[str, Any]] = field(default_factory=list)
    # wall seconds waited on Amazon (usage plans, back-off, report processing), spent in HTTP requests,
    # and spent here (parsing, staging, gates, load)
    amazon_seconds: float = 0.0
    request_seconds: float = 0.0
    local_seconds: float = 0.0


def import_window(
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    channel: Channel,
    run_id: str,
    window: Window,
    *,
    path: str | None = None,
    dag_id: str = "cli",
    report_poll_seconds: float = 30.0,
) -> ImportResult:
    """Import ``window`` for ``channel`` as run ``run_id``: every step of ``steps.SEQUENCE`` in turn, committed
    after each, for the Seller ID of the gateway's credentials; ``path`` as the DAG's Param (default: the
    channel's ``orders.path``). A failure marks the run's interval failed, as in the DAG."""
    key = RunKey(channel, run_id, dag_id, seller_id=gateway.credentials.seller_id)
    calls_before = gateway.calls
    waited_before, requests_before = gateway.waited_seconds, gateway.request_seconds
    inputs: dict[str, dict[str, Any]] = {"extract": {"window": window, "path": path}}
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    report_waits = 0.0
    try:
        for step in steps.SEQUENCE:
            started = time.perf_counter()
            results[step.name], slept = _run(step, key.for_task(step.name), conn, gateway, report_poll_seconds, inputs)
            report_waits += slept
            conn.commit()
            seconds[step.name] = time.perf_counter() - started
            if step.name == "load":
                inputs["record_interval"] = {"loaded": results["load"]}
    except BaseException as exc:
        conn.rollback()
        steps.record_failure(key, conn, exc)
        conn.commit()
        raise
    recorded, method = results["record_interval"], results["extract"]["method"]
    waited = gateway.waited_seconds - waited_before + report_waits
    requests = gateway.request_seconds - requests_before
    return ImportResult(
        method,
        recorded["orders_seen"],
        recorded["orders_changed"],
        recorded["rejected"],
        results["load"],
        gateway.calls - calls_before,
        seconds,
        gate.rejected_reasons(conn, channel.id, run_id),
        amazon_seconds=waited,
        request_seconds=requests,
        local_seconds=max(0.0, sum(seconds.values()) - waited - requests),
    )


def _run(
    step: steps.Step,
    key: RunKey,
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    poll_seconds: float,
    inputs: dict[str, dict[str, Any]],
) -> tuple[Any, float]:
    """One step (a wait polled with a sleep between calls); returns its result and the seconds slept."""
    args = (key, conn, gateway) if step.amazon else (key, conn)
    given = inputs.get(step.name, {})
    slept = 0.0
    while not (result := step.run(*args, **given)) and step.waits:
        time.sleep(poll_seconds)
        slept += poll_seconds
    return result, slept
