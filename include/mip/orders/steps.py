"""The order import's steps and their one order, ``SEQUENCE``.

``mip_orders__<channel>`` runs each step as a task (``wait_report`` as a reschedule-mode sensor), after
``check_channel`` and ``wait_until_closed``; ``mip.orders.importer`` runs the same steps in the same order in
one process (command line, benchmarks, tests), polling the report with a sleep. A step is
``step(key, conn, [gateway], **inputs)`` (``mip.runs``): ``key.seller_id`` is the Seller ID the run reads with,
recorded by ``extract`` in the run's ``mip.order_intervals`` row and read back by every later step
(``run_seller``). Every gateway step adds its SP-API calls to the interval's ``api_calls``; any failure marks the
interval failed with the error (``record_failure``).

The DAG file declares its tasks from ``SEQUENCE`` at parse time: this module imports the steps' code (pandas,
psycopg, the SP-API client) only when a step runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mip.runs import RunKey, StepFailed

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.orders.window import Window

log = logging.getLogger(__name__)
RECORDED = ("interval_start", "covered_end", "method", "orders_seen", "orders_loaded", "items_loaded")


# --- the run's window and seller --------------------------------------------------------------------------------


def run_window(
    window: Window | None = None,
    window_start: Any = None,
    window_end: Any = None,
    interval_start: datetime | None = None,
    interval_end: datetime | None = None,
) -> Window:
    """``window`` when given, else the ``window_start``/``window_end`` Params, else the data interval."""
    from mip.orders.window import WindowError, resolve

    if window is not None:
        return window
    try:
        return resolve(window_start, window_end, interval_start, interval_end)
    except WindowError as exc:
        raise StepFailed(str(exc), fix="give both window_start and window_end (ISO 8601), or neither") from None


def window_seller(key: RunKey, conn: psycopg.Connection, current: str, **inputs: Any) -> tuple[str, str | None]:
    """The Seller ID ``extract`` reads with: the one the account had when the window ends (mip.orders.sellers)."""
    from mip.orders.sellers import seller_for_window, seller_periods

    window = run_window(**{k: v for k, v in inputs.items() if k != "path" and k != "logical_date"})
    return seller_for_window(seller_periods(conn, key.account_id, current), window.end).seller_id, None


def _interval(conn: psycopg.Connection, key: RunKey) -> dict:
    from mip.orders import intervals

    row = intervals.current(conn, key.channel_id, key.run_id)
    if row is None:
        raise StepFailed(
            f"run {key.run_id} of channel {key.channel_id} has no mip.order_intervals row", fix="clear extract"
        )
    return row


def run_seller(key: RunKey, conn: psycopg.Connection, current: str, **_: Any) -> tuple[str, str | None]:
    """The Seller ID ``extract`` recorded for the run; for a previous seller, the recovery advice its refusal
    leads with (its hours are read only with that seller's authorization)."""
    from mip.orders.sellers import recovery_advice

    row = _interval(conn, key)
    seller = row["seller_id"]
    if seller == current:
        return seller, None
    hours = f"the orders of channel {key.channel_id} in [{row['interval_start']}, {row['interval_end']})"
    return seller, recovery_advice(key.account_id, seller, current, hours)


def record_failure(key: RunKey, conn: psycopg.Connection, error: BaseException) -> None:
    """Mark the run's interval failed with the error (the repair DAG re-runs failed intervals)."""
    from mip.orders import intervals

    intervals.record_failure(conn, key.channel_id, key.run_id, f"{type(error).__name__}: {error}")


def _count_calls(conn: psycopg.Connection, key: RunKey, gateway: SpApiGateway, before: int) -> None:
    from mip.orders import intervals

    intervals.add_calls(conn, key.channel_id, key.run_id, gateway.calls - before)


# --- the steps ----------------------------------------------------------------------------------------------------


def extract(
    key: RunKey,
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    *,
    path: str | None = None,
    logical_date: datetime | None = None,
    **window: Any,
) -> dict[str, Any]:
    """Record the run's window and seller (committed: a later failure is recorded against it); page getOrders
    into the stage tables, or request the orders report (``path``: cheaper, api or report; default the
    channel's ``orders.path``)."""
    import mip.orders.extract
    from mip.orders import intervals, stage

    channel, before = key.channel, gateway.calls
    resolved = run_window(**window)
    path = path or channel.orders.path
    seller = key.seller_id or gateway.credentials.seller_id
    stage.prune(conn, channel.id)
    stage.clear_run(conn, channel.id, key.run_id, kinds=("orders", "items", "report"))
    method = "report" if path == "report" else "api"  # recorded again once the path is chosen
    intervals.record_start(
        conn, channel.id, key.run_id, key.dag_id or "", logical_date, resolved, method, seller_id=seller,
        account_id=key.account_id,
    )  # fmt: skip
    conn.commit()
    log.info(
        "channel %s (%s, %s), Seller ID %s: orders updated in [%s, %s], path %s%s",
        channel.id,
        channel.country,
        key.marketplace_id,
        seller,
        resolved.start.isoformat(),
        resolved.before.isoformat(),
        path,
        "" if resolved.complete else f" (the window ends {resolved.end.isoformat()}: covered up to now - 2 min)",
    )
    summary = mip.orders.extract.start(conn, gateway, key, resolved, path, channel.orders.report_minutes)
    _count_calls(conn, key, gateway, before)
    log.info("extract: %s", summary)
    return summary


def wait_report(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> bool:
    """One getReport of the run's orders report: done (DONE, or CANCELLED: no data)? Done at once when paging.
    A FATAL report fails the step (``mip.amazon.reports.ReportState``)."""
    import mip.orders.extract

    interval = _interval(conn, key)
    if interval["method"] != "report":
        return True
    before = gateway.calls
    state = mip.orders.extract.report_job(key).poll(gateway, interval["report_id"])
    _count_calls(conn, key, gateway, before)
    return state.done


def download_report(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> dict[str, Any]:
    """Download the finished report and stage its orders with their lines (nothing to do when paging; a
    CANCELLED report is empty)."""
    import mip.orders.extract
    from mip.orders import stage
    from mip.orders.normalise import ReportFormatError

    interval = _interval(conn, key)
    if interval["method"] != "report":
        log.info("paging path: no report")
        return {}
    before = gateway.calls
    stage.clear_run(conn, key.channel_id, key.run_id, kinds=("report",))
    job = mip.orders.extract.report_job(key)
    state = job.poll(gateway, interval["report_id"])
    text = job.text(gateway, state)
    _count_calls(conn, key, gateway, before)
    if state.empty:
        log.info("report %s CANCELLED: no order was updated in the window", state.report_id)
        return {"rows": 0, "orders": 0, "items": 0}
    try:
        summary = mip.orders.extract.load_report(conn, key, state, text)
    except ReportFormatError as exc:
        # A report document never changes: downloading it again gives the same damage, so no retry.
        # Nothing of it is staged; its text stays in mip.order_pages for inspection. A new report mends it.
        conn.commit()
        raise StepFailed(
            f"report {state.report_id} refused, nothing of it loaded (its text: mip.order_pages): {exc}",
            fix=f"clear this run (its extract requests a new report), or trigger mip_repair__{key.account_id}, "
            "which re-runs failed intervals",
        ) from None
    summary["unchanged"] = stage.mark_unchanged(conn, key.channel_id, key.run_id)
    log.info("report: %s", summary)
    return summary


def items(key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway) -> dict[str, int]:
    """getOrderItems for the orders whose LastUpdateDate changed since the stored one (paging path)."""
    import mip.orders.extract

    before = gateway.calls
    fetched, staged = mip.orders.extract.fetch_items(conn, gateway, key)
    _count_calls(conn, key, gateway, before)
    log.info("getOrderItems for %s changed orders: %s lines", f"{fetched:,}", f"{staged:,}")
    return {"orders": fetched, "items": staged}


def gate(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """Suite ``orders`` over the changed orders; failing ones -> mip.rejected_rows, not loaded."""
    from mip.orders.gate import rejected_reasons, run_order_gate

    channel = key.channel
    result = run_order_gate(conn, channel.id, channel.marketplace.currency, key.run_id, key.dag_id, key.task_id)
    rejected = rejected_reasons(conn, channel.id, key.run_id)
    log.info("%s", result.message())
    if rejected:
        log.warning(
            "%s order(s) rejected, not loaded (mip.rejected_rows, source 'orders:%s', run_id '%s'):",
            result.unexpected_rows,
            channel.id,
            key.run_id,
        )
        for entry in rejected:
            log.warning("  %s: %s", entry["amazon_order_id"], entry["reasons"])
    conn.commit()  # the rejected rows stay recorded when the verdict fails the step
    result.raise_for_verdict()
    return {**result.summary(), "rejected_examples": [r["amazon_order_id"] for r in rejected]}


def load(key: RunKey, conn: psycopg.Connection) -> dict[str, int]:
    """Upsert the accepted orders and lines (a newer LastUpdateDate wins)."""
    from mip.orders.load import load_run

    result = load_run(conn, key.channel_id, key.run_id).as_dict()
    log.info("loaded: %s", result)
    return result


def record_interval(key: RunKey, conn: psycopg.Connection, loaded: dict[str, int]) -> dict[str, Any]:
    """Mark the run's window imported in mip.order_intervals, with its counts."""
    from mip.orders import events, intervals, stage

    counts = stage.counts(conn, key.channel_id, key.run_id)
    intervals.record_imported(
        conn,
        key.channel_id,
        key.run_id,
        orders_seen=counts["orders_seen"],
        orders_loaded=loaded["orders_inserted"] + loaded["orders_updated"],
        items_loaded=loaded["items_inserted"] + loaded["items_updated"],
        rejected=counts["rejected"],
    )
    events.reconcile(conn, key.channel_id, key.run_id)  # missed_by_events: what ORDER_CHANGE had not brought
    row = intervals.current(conn, key.channel_id, key.run_id) or {}
    summary = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in row.items()
        if k in (*RECORDED, "rejected", "api_calls", "missed_by_events")
    }
    log.info("imported: %s", summary)
    return {**summary, "orders_changed": counts["orders_changed"]}


@dataclass(frozen=True)
class Step:
    """One step of the import: its task id, its function, whether it calls Amazon (the account's pool) and
    whether it is a wait (a reschedule-mode sensor in the DAG, a sleep loop in the importer)."""

    name: str
    run: Callable[..., Any]
    amazon: bool = False
    waits: bool = False


SEQUENCE: tuple[Step, ...] = (
    Step("extract", extract, amazon=True),
    Step("wait_report", wait_report, amazon=True, waits=True),
    Step("download_report", download_report, amazon=True),
    Step("items", items, amazon=True),
    Step("gate", gate),
    Step("load", load),
    Step("record_interval", record_interval),
)
