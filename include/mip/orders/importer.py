"""One window imported start to finish in this process: the DAG's steps in sequence.

``mip_orders__<channel>`` runs these steps as separate tasks (the report wait as a reschedule-mode
sensor); this module chains the same functions for the command line, benchmarks and tests, polling
the report with a sleep between getReport calls (each call still goes through the rate budget).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mip.amazon.gateway import SpApiGateway
from mip.config import Channel
from mip.orders import events, extract, gate, intervals, load, stage
from mip.orders.window import Window


class ReportFailed(RuntimeError):
    pass


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


def wait_for_report(
    gateway: SpApiGateway, run: extract.RunKey, report_id: str, poll_seconds: float, timeout: float = 6 * 3600
) -> tuple[dict, float]:
    """Poll getReport until the report is done; returns it with the seconds slept between polls."""
    deadline = time.monotonic() + timeout
    slept = 0.0
    while True:
        report = extract.report_status(gateway, run, report_id)
        status = report.get("processingStatus")
        if status in ("DONE", "CANCELLED"):
            return report, slept
        if status == "FATAL":
            raise ReportFailed(f"Amazon could not produce orders report {report_id} (FATAL)")
        if time.monotonic() > deadline:
            raise ReportFailed(f"orders report {report_id} still {status} after {timeout:.0f} s")
        time.sleep(poll_seconds)
        slept += poll_seconds


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
    """Import ``window`` for ``channel`` as run ``run_id`` (commits after each step), for the Seller ID of the
    gateway's credentials; ``path`` as the DAG's Param (default: the channel's ``orders.path``)."""
    run = extract.RunKey(channel, run_id, gateway.credentials.seller_id)
    path = path or channel.orders.path
    calls_before = gateway.calls
    waited_before, requests_before = gateway.waited_seconds, gateway.request_seconds
    seconds: dict[str, float] = {}
    stage.clear_run(conn, channel.id, run_id, kinds=("orders", "items", "report"))
    method = "report" if path == "report" else "api"  # recorded again once the path is chosen
    intervals.record_start(
        conn, channel.id, run_id, dag_id, None, window, method, seller_id=run.seller_id, account_id=run.account_id
    )
    conn.commit()
    report_waits = 0.0
    try:
        started = time.perf_counter()
        summary = extract.start(conn, gateway, run, window, path, channel.orders.report_minutes)
        method = summary["method"]
        conn.commit()
        seconds["extract"] = time.perf_counter() - started
        started = time.perf_counter()
        if method == "api":
            extract.fetch_items(conn, gateway, run)
        else:
            report, report_waits = wait_for_report(gateway, run, summary["report_id"], report_poll_seconds)
            if report.get("processingStatus") == "DONE":
                extract.load_report(conn, gateway, run, report)
                stage.mark_unchanged(conn, channel.id, run_id)
        conn.commit()
        seconds["items" if method == "api" else "report"] = time.perf_counter() - started
        started = time.perf_counter()
        verdict = gate.run_order_gate(conn, channel.id, channel.marketplace.currency, run_id, dag_id, "gate")
        rejected_orders = gate.rejected_reasons(conn, channel.id, run_id)
        conn.commit()
        seconds["gate"] = time.perf_counter() - started
        started = time.perf_counter()
        loaded = load.load_run(conn, channel.id, run_id).as_dict()
        seconds["load"] = time.perf_counter() - started
        counts = stage.counts(conn, channel.id, run_id)
        calls = gateway.calls - calls_before
        intervals.record_imported(
            conn,
            channel.id,
            run_id,
            orders_seen=counts["orders_seen"],
            orders_loaded=loaded["orders_inserted"] + loaded["orders_updated"],
            items_loaded=loaded["items_inserted"] + loaded["items_updated"],
            rejected=counts["rejected"],
            api_calls=calls,
        )
        events.reconcile(conn, channel.id, run_id)  # missed_by_events: what ORDER_CHANGE had not brought
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        intervals.record_failure(conn, channel.id, run_id, f"{type(exc).__name__}: {exc}")
        conn.commit()
        raise
    waited = gateway.waited_seconds - waited_before + report_waits
    requests = gateway.request_seconds - requests_before
    return ImportResult(
        method,
        counts["orders_seen"],
        counts["orders_changed"],
        verdict.unexpected_rows,
        loaded,
        calls,
        seconds,
        rejected_orders,
        amazon_seconds=waited,
        request_seconds=requests,
        local_seconds=max(0.0, sum(seconds.values()) - waited - requests),
    )
