"""``mip_orders__<channel>``: import the orders Amazon updated in each data interval.

check_channel -> wait_until_closed -> extract -> wait_report -> download_report -> items -> gate
-> load -> record_interval. Each step reads and writes Postgres tables keyed by the run
(``mip.order_pages``, ``mip.stage_orders``, ``mip.stage_order_items``, ``mip.order_intervals``);
only small summaries go through XCom. extract reads the first getOrders page and estimates both
paths under Amazon's usage plans (``mip.orders.cost``): the cheaper one goes on. Paging reads the
rest of the pages, fetching order items while getOrders waits for its next token (items fetches
what is left; the report steps return at once); the report path requests the orders report
(wait_report polls it in reschedule mode, download_report stages it; a CANCELLED report is an empty
one, a FATAL one fails at once with the fix: mip.amazon.reports). The channel's
``orders.path`` or the run's ``path`` Param can force either path. Every run records its window
in ``mip.order_intervals`` (started -> imported or failed), which the repair DAG reads to find the
gaps. Each task is one ``run_step`` call into a step of ``mip.orders.steps``, in the order of its
``SEQUENCE``, which the programmatic importer (``mip.orders.importer``) runs too.

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
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, BaseOperator, Param, task

from mip.airflow.common import channel_dag, check_channel, sp_api_pool
from mip.airflow.waits import step_sensor
from mip.config import Channel, Topology
from mip.orders import steps

ROLES = ("main", "international")  # the channel roles mip_orders__<channel> runs for
# Seconds between two getReport polls of wait_report (reschedule mode: no worker slot held between).
REPORT_POKE_SECONDS = float(os.environ.get("MIP_ORDERS_REPORT_POKE_SECONDS", "30"))
REPORT_TIMEOUT = timedelta(hours=6)
AMAZON_DELAY = timedelta(minutes=2)

wait_report = step_sensor(
    steps.wait_report,
    task_id="wait_report",
    poke_interval=REPORT_POKE_SECONDS,
    timeout=REPORT_TIMEOUT,
    retries=2,
    run_options={"seller": steps.run_seller, "on_failure": steps.record_failure},
)


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


RUN: dict[str, Any] = {"on_failure": steps.record_failure}  # any failure marks the run's interval failed
READ: dict[str, Any] = {"gateway": True, "seller": steps.run_seller, **RUN}  # reads for the seller extract recorded


def _run_inputs(channel_id: str) -> dict[str, Any]:
    """The running task's window and path: the Params, else the run's interval (for ``steps.extract``)."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology
    from mip.schedule import schedule_period

    context = get_current_context()
    params = context["params"]
    period = schedule_period(load_topology().channel(channel_id).orders.schedule)
    interval_start, interval_end = _run_interval(context, period)
    return {
        "path": params.get("path"),
        "logical_date": context["dag_run"].logical_date,
        "window_start": params.get("window_start"),
        "window_end": params.get("window_end"),
        "interval_start": interval_start,
        "interval_end": interval_end,
    }


@task(task_id="extract")
def extract(channel_id: str) -> dict[str, Any]:
    """Resolve the window and its seller; page getOrders into the stage tables, or request the orders report."""
    from mip.airflow.adapter import run_step

    return run_step(
        steps.extract, channel_id, gateway=True, seller=steps.window_seller, **RUN, **_run_inputs(channel_id)
    )


@task(task_id="download_report")
def download_report(channel_id: str) -> dict[str, Any]:
    """Download the finished report and stage its orders with their lines (nothing to do when paging)."""
    from mip.airflow.adapter import run_step

    return run_step(steps.download_report, channel_id, **READ)


@task(task_id="items")
def items(channel_id: str) -> dict[str, int]:
    """getOrderItems for the orders whose LastUpdateDate changed since the stored one (paging path)."""
    from mip.airflow.adapter import run_step

    return run_step(steps.items, channel_id, **READ)


@task(task_id="gate")
def gate(channel_id: str) -> dict[str, Any]:
    """Suite ``orders`` over the changed orders; failing ones -> mip.rejected_rows, not loaded."""
    from mip.airflow.adapter import run_step

    return run_step(steps.gate, channel_id, **RUN)


def _load(channel_id: str) -> dict[str, int]:
    """Upsert the accepted orders and lines (a newer LastUpdateDate wins); emits mip://orders/<channel>."""
    from mip.airflow.adapter import run_step

    return run_step(steps.load, channel_id, **RUN)


@task(task_id="record_interval")
def record_interval(channel_id: str, loaded: dict[str, int]) -> dict[str, Any]:
    """Mark the run's window imported in mip.order_intervals, with its counts."""
    from mip.airflow.adapter import run_step

    return run_step(steps.record_interval, channel_id, **RUN, loaded=loaded)


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
        tasks = {
            "extract": extract.override(pool=pool)(channel.id),
            "wait_report": wait_report.override(pool=pool)(channel.id),
            "download_report": download_report.override(pool=pool)(channel.id),
            "items": items.override(pool=pool)(channel.id),
            "gate": gate(channel.id),
            "load": task(task_id="load", outlets=[orders_asset(channel.id)])(_load)(channel.id),
        }
        tasks["record_interval"] = record_interval(channel.id, tasks["load"])
        # the tasks run in the order of mip.orders.steps.SEQUENCE, the importer's too
        previous = WaitUntilClosed(task_id="wait_until_closed", period=schedule_period(channel.orders.schedule))
        check_channel(channel.id) >> previous
        for step in steps.SEQUENCE:
            previous >> tasks[step.name]
            previous = tasks[step.name]
    return dag
