"""``mip_orders__<channel>``: import the orders Amazon updated in each data interval.

check_channel -> wait_until_closed -> extract -> wait_report -> download_report -> items -> gate
-> load -> record_interval. Each step reads and writes Postgres tables keyed by the run
(``mip.order_pages``, ``mip.stage_orders``, ``mip.stage_order_items``, ``mip.order_intervals``);
only small summaries go through XCom. extract reads the first getOrders page and estimates both
paths under Amazon's usage plans (``mip.orders.cost``): the cheaper one goes on. Paging reads the
rest of the pages, fetching order items while getOrders waits for its next token (items fetches
what is left; the report steps return at once); the report path requests the orders report
(wait_report polls it in reschedule mode, download_report stages it). The channel's
``orders.path`` or the run's ``path`` Param can force either path. Every run records its window
in ``mip.order_intervals`` (started -> imported or failed), which the repair DAG reads to find the
gaps.

Logical dates: a run with logical date L imports the schedule period ending at L ([L - 1 h, L) for
@hourly), whether scheduled, backfilled or manual (mip.airflow.timetables: Airflow's
``CronTriggerTimetable`` alone dates a scheduled or backfilled run by its interval's *start*, a manual
run of L by its interval's end). So ``airflow backfill create`` skipping a logical date that has a
successful manual run skips an interval that run did import.

Sellers: a run reads for the Seller ID the account had when its window ends (mip.orders.sellers);
extract records it in the run's interval, every later step reads with that seller's authorization
(a previous seller's is kept at a switch) and refuses, with the recovery, when there is none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, BaseOperator, Param, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.config import Channel, Topology

ROLES = ("main", "international")  # the channel roles mip_orders__<channel> runs for
# Seconds between two getReport polls of wait_report (reschedule mode: no worker slot held between).
REPORT_POKE_SECONDS = float(os.environ.get("MIP_ORDERS_REPORT_POKE_SECONDS", "30"))
REPORT_TIMEOUT = timedelta(hours=6)
AMAZON_DELAY = timedelta(minutes=2)


def orders_asset(channel_id: str) -> Asset:
    return Asset(uri=f"mip://orders/{channel_id}", name=f"mip_orders__{channel_id}")


def _params_window(context: Any) -> tuple[Any, Any]:
    params = context["params"]
    return params.get("window_start"), params.get("window_end")


def _run_interval(context: Any, period: timedelta | None) -> tuple[Any, Any]:
    """A manual run's interval is the period ending at its logical date; any other run's is its data interval."""
    from mip.orders.window import run_interval

    dag_run = context.get("dag_run")
    manual = getattr(dag_run, "run_type", None) == "manual"
    logical_date = dag_run.logical_date if manual and period else None
    return run_interval(logical_date, context.get("data_interval_start"), context.get("data_interval_end"), period)


def _params_path(context: Any) -> str | None:
    return context["params"].get("path")


class WaitUntilClosed(BaseOperator):
    """Deferrable wait until the window's end + 2 minutes (Amazon's LastUpdatedBefore rule).

    Returns at once for a window already closed (backfills, repairs, catch-up runs); otherwise
    defers to the triggerer, holding no worker slot.
    """

    ui_color = "#e8f7e4"

    def __init__(self, *, period: timedelta | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.period = period

    def execute(self, context: Any) -> None:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        from mip.orders.window import WindowError, parse_instant

        end = _run_interval(context, self.period)[1]
        window_end = _params_window(context)[1]
        if window_end:
            try:
                end = parse_instant(window_end, "window_end")
            except WindowError:
                return  # extract reports the bad Param
        if end is None:
            return
        moment = end + AMAZON_DELAY
        if moment <= datetime.now(UTC):
            self.log.info("window closed at %s: nothing to wait for", end.isoformat())
            return
        self.log.info("waiting until %s (window end + 2 minutes)", moment.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="execute_complete")

    def execute_complete(self, context: Any, event: Any = None) -> None:
        self.log.info("window closed")


def _run(channel_id: str):
    """(context, channel, RunKey) of the running task, for the Seller ID extract recorded for the run."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology
    from mip.orders.extract import RunKey

    context = get_current_context()
    channel = load_topology().channel(channel_id)
    interval = _interval(channel_id, context["run_id"])
    return context, channel, RunKey(channel, context["run_id"], interval["seller_id"])


def _current_seller(account) -> str:
    from mip.airflow.hooks.sp_api import SpApiHook

    return SpApiHook(account.connection_id, account.id).credentials().seller_id


@contextmanager
def _recorded_failure(channel_id: str, run_id: str) -> Iterator[None]:
    """Any failure of the step marks the run's interval failed (with the error) before it propagates."""
    try:
        yield
    except BaseException as exc:
        from mip.airflow.db import mip_db
        from mip.orders import intervals

        with mip_db() as conn:
            intervals.record_failure(conn, channel_id, run_id, f"{type(exc).__name__}: {exc}")
        raise


@contextmanager
def _gateway(channel: Channel, run):
    """The gateway reading for the run's seller inside ``amazon_errors()``; its calls are added to the interval's
    count. A previous seller's hours are read only with that seller's authorization (failing with the recovery)."""
    from mip.airflow.db import mip_db
    from mip.airflow.hooks.sp_api import seller_gateway
    from mip.config import load_topology
    from mip.orders import intervals
    from mip.orders.sellers import recovery_advice

    account = load_topology().account_of(channel)
    with _recorded_failure(channel.id, run.run_id):
        current = _current_seller(account)
        advice = None
        if run.seller_id != current:
            row = _interval(channel.id, run.run_id)
            hours = f"the orders of channel {channel.id} in [{row['interval_start']}, {row['interval_end']})"
            advice = recovery_advice(account.id, run.seller_id, current, hours)
        with seller_gateway(account, run.seller_id, advice) as gateway:
            try:
                yield gateway
            finally:
                with mip_db() as conn:
                    intervals.add_calls(conn, channel.id, run.run_id, gateway.calls)


def _interval(channel_id: str, run_id: str) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.orders import intervals

    with mip_db() as conn:
        row = intervals.current(conn, channel_id, run_id)
    if row is None:
        raise AirflowFailException(f"run {run_id} of channel {channel_id} has no mip.order_intervals row: run extract")
    return row


@task(task_id="extract")
def extract(channel_id: str) -> dict[str, Any]:
    """Resolve the window and its seller; page getOrders into the stage tables, or request the orders report."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    import mip.orders.extract
    from mip.airflow.db import mip_db
    from mip.config import load_topology
    from mip.orders import intervals, stage
    from mip.orders.extract import RunKey
    from mip.orders.sellers import seller_for_window, seller_periods
    from mip.orders.window import WindowError, resolve
    from mip.schedule import schedule_period

    context = get_current_context()
    topology = load_topology()
    channel = topology.channel(channel_id)
    account = topology.account_of(channel)
    try:
        interval = _run_interval(context, schedule_period(channel.orders.schedule))
        window = resolve(*_params_window(context), *interval)
    except WindowError as exc:
        raise AirflowFailException(str(exc)) from None
    path = _params_path(context) or channel.orders.path
    logical_date = context["dag_run"].logical_date
    with mip_db() as conn:
        current = _current_seller(account)
        seller = seller_for_window(seller_periods(conn, account.id, current), window.end).seller_id
        run = RunKey(channel, context["run_id"], seller)
        stage.prune(conn, channel_id)
        stage.clear_run(conn, channel_id, run.run_id, kinds=("orders", "items", "report"))
        method = "report" if path == "report" else "api"  # recorded again once the path is chosen
        intervals.record_start(
            conn,
            channel_id,
            run.run_id,
            context["dag"].dag_id,
            logical_date,
            window,
            method,
            seller_id=seller,
            account_id=account.id,
        )
    print(
        f"channel {channel_id} ({channel.country}, {run.marketplace_id}), Seller ID {seller}: orders updated in "
        f"[{window.start.isoformat()}, {window.before.isoformat()}], path {path}"
        + ("" if window.complete else f" (the window ends {window.end.isoformat()}: covered up to now - 2 min)")
    )
    with _gateway(channel, run) as gateway, mip_db() as conn:
        summary = mip.orders.extract.start(conn, gateway, run, window, path, channel.orders.report_minutes)
    print(f"extract: {summary}")
    return summary


@task.sensor(
    task_id="wait_report", poke_interval=REPORT_POKE_SECONDS, mode="reschedule", timeout=REPORT_TIMEOUT, retries=2
)
def wait_report(channel_id: str):
    """Poll getReport (reschedule mode, within the usage plan) until the orders report is done."""
    from airflow.sdk import PokeReturnValue
    from airflow.sdk.exceptions import AirflowFailException

    import mip.orders.extract

    _, channel, run = _run(channel_id)
    interval = _interval(channel_id, run.run_id)
    if interval["method"] != "report":
        return PokeReturnValue(is_done=True)
    with _gateway(channel, run) as gateway:
        report = mip.orders.extract.report_status(gateway, run, interval["report_id"])
    status = report.get("processingStatus")
    print(f"report {interval['report_id']}: {status}")
    if status == "FATAL":
        error = AirflowFailException(
            f"Amazon could not produce orders report {interval['report_id']} (FATAL); clear this run to request "
            "it again"
        )
        with _recorded_failure(channel_id, run.run_id):
            raise error
    return PokeReturnValue(is_done=status in ("DONE", "CANCELLED"))


@task(task_id="download_report")
def download_report(channel_id: str) -> dict[str, Any]:
    """Download the done report and stage its orders with their lines (nothing to do when paging)."""
    from airflow.sdk.exceptions import AirflowFailException

    import mip.orders.extract
    from mip.airflow.db import mip_db
    from mip.config import load_topology
    from mip.orders import stage
    from mip.orders.normalise import ReportFormatError

    _, channel, run = _run(channel_id)
    interval = _interval(channel_id, run.run_id)
    if interval["method"] != "report":
        print("paging path: no report")
        return {}
    with mip_db() as conn:
        stage.clear_run(conn, channel_id, run.run_id, kinds=("report",))
    with _gateway(channel, run) as gateway, mip_db() as conn:
        report = mip.orders.extract.report_status(gateway, run, interval["report_id"])
        if report.get("processingStatus") == "CANCELLED":  # Amazon cancels a report that has no data
            print(f"report {interval['report_id']} CANCELLED: no order was updated in the window")
            return {"rows": 0, "orders": 0, "items": 0}
        try:
            summary = mip.orders.extract.load_report(conn, gateway, run, report)
        except ReportFormatError as exc:
            # A report document never changes: downloading it again gives the same damage, so no retry.
            # Nothing of it is staged; its text stays in mip.order_pages for inspection. A new report mends it.
            conn.commit()
            account = load_topology().account_of(channel).id
            raise AirflowFailException(
                f"report {interval['report_id']} refused, nothing of it loaded (its text: mip.order_pages): {exc}. "
                f"Fix: clear this run (its extract requests a new report), or trigger mip_repair__{account}, which "
                "re-runs failed intervals"
            ) from None
        summary["unchanged"] = stage.mark_unchanged(conn, channel_id, run.run_id)
    print(f"report: {summary}")
    return summary


@task(task_id="items")
def items(channel_id: str) -> dict[str, int]:
    """getOrderItems for the orders whose LastUpdateDate changed since the stored one (paging path)."""
    import mip.orders.extract
    from mip.airflow.db import mip_db

    _, channel, run = _run(channel_id)
    with _gateway(channel, run) as gateway, mip_db() as conn:
        fetched, staged = mip.orders.extract.fetch_items(conn, gateway, run)
    print(f"getOrderItems for {fetched:,} changed orders: {staged:,} lines")
    return {"orders": fetched, "items": staged}


@task(task_id="gate")
def gate(channel_id: str) -> dict[str, Any]:
    """Suite ``orders`` over the changed orders; failing ones -> mip.rejected_rows, not loaded."""
    from mip.airflow.db import mip_db
    from mip.orders.gate import rejected_reasons, run_order_gate

    context, channel, run = _run(channel_id)
    with _recorded_failure(channel_id, run.run_id), mip_db() as conn:
        result = run_order_gate(
            conn,
            channel_id,
            channel.marketplace.currency,
            run.run_id,
            context["dag"].dag_id,
            context["task"].task_id,
        )
        rejected = rejected_reasons(conn, channel_id, run.run_id)
    print(result.message())
    if rejected:
        print(
            f"WARNING {result.unexpected_rows} order(s) rejected, not loaded (mip.rejected_rows, source "
            f"'orders:{channel_id}', run_id '{run.run_id}'):"
        )
        for entry in rejected:
            print(f"  {entry['amazon_order_id']}: {entry['reasons']}")
    result.raise_for_verdict()
    return {**result.summary(), "rejected_examples": [r["amazon_order_id"] for r in rejected]}


def _load(channel_id: str) -> dict[str, int]:
    """Upsert the accepted orders and lines (a newer LastUpdateDate wins); emits mip://orders/<channel>."""
    from mip.airflow.db import mip_db
    from mip.orders.load import load_run

    _, _, run = _run(channel_id)
    with _recorded_failure(channel_id, run.run_id), mip_db() as conn:
        result = load_run(conn, channel_id, run.run_id)
    print(f"loaded: {result.as_dict()}")
    return result.as_dict()


@task(task_id="record_interval")
def record_interval(channel_id: str, loaded: dict[str, int]) -> dict[str, Any]:
    """Mark the run's window imported in mip.order_intervals, with its counts."""
    from mip.airflow.db import mip_db
    from mip.orders import events, intervals, stage

    _, _, run = _run(channel_id)
    with mip_db() as conn:
        counts = stage.counts(conn, channel_id, run.run_id)
        intervals.record_imported(
            conn,
            channel_id,
            run.run_id,
            orders_seen=counts["orders_seen"],
            orders_loaded=loaded["orders_inserted"] + loaded["orders_updated"],
            items_loaded=loaded["items_inserted"] + loaded["items_updated"],
            rejected=counts["rejected"],
        )
        events.reconcile(conn, channel_id, run.run_id)  # missed_by_events: what ORDER_CHANGE had not brought
        row = intervals.current(conn, channel_id, run.run_id)
    summary = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in (row or {}).items()
        if k
        in (
            "interval_start",
            "covered_end",
            "method",
            "orders_seen",
            "orders_loaded",
            "items_loaded",
            "rejected",
            "api_calls",
        )
    }
    print(f"imported: {summary}")
    return summary


def build(topology: Topology, channel: Channel) -> DAG:
    from mip.airflow.timetables import PeriodEndTimetable
    from mip.schedule import schedule_period

    account = topology.account_of(channel)
    pool = sp_api_pool(account.id)
    with channel_dag(
        "orders",
        topology,
        channel,
        # logical date L imports [L - period, L), for scheduled, backfilled and manual runs alike
        schedule=PeriodEndTimetable(
            channel.orders.schedule, timezone="UTC", interval=schedule_period(channel.orders.schedule)
        ),
        max_active_runs=4,
        title="Order import",
        what=(
            f"Imports the orders Amazon updated in each data interval (schedule `{channel.orders.schedule}`) "
            "into `mip.orders` / `mip.order_items`: getOrders pages + getOrderItems, or the orders report when "
            "the first page shows that the report is faster under Amazon's usage plans. Raw pages: `mip.order_pages`; "
            "rejected orders: `mip.rejected_rows`; imported windows: `mip.order_intervals`. Manual runs may give "
            "`window_start`/`window_end`; backfills: `airflow backfill create --dag-id ...` (README, 'Orders')."
        ),
        params={
            "window_start": Param(
                None,
                type=["null", "string"],
                description="ISO 8601 start of the window to "
                "import instead of the data interval (give window_end too).",
            ),
            "window_end": Param(None, type=["null", "string"], description="ISO 8601 end (exclusive) of the window."),
            "path": Param(
                None,
                type=["null", "string"],
                enum=[None, "cheaper", "api", "report"],
                description="How to read the window: cheaper (estimated from the first getOrders page), api "
                "(getOrders + getOrderItems) or report (the orders report). Empty: the channel's orders.path.",
            ),
        },
    ) as dag:
        wait = WaitUntilClosed(task_id="wait_until_closed", period=schedule_period(channel.orders.schedule))
        extracted = extract.override(pool=pool)(channel.id)
        polled = wait_report.override(pool=pool)(channel.id)
        downloaded = download_report.override(pool=pool)(channel.id)
        fetched = items.override(pool=pool)(channel.id)
        gated = gate(channel.id)
        loaded = task(task_id="load", outlets=[orders_asset(channel.id)])(_load)(channel.id)
        recorded = record_interval(channel.id, loaded)
        check_channel(channel.id) >> wait >> extracted >> polled >> downloaded >> fetched >> gated >> loaded
        loaded >> recorded
    return dag
