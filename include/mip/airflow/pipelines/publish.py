"""``mip_publish__<channel>``: publish the supplier catalog's selection to a main channel.

check_channel -> select -> gate_offers -> price -> gate_prices -> plan. Every task reads its input
table filtered by the run's id and writes its output table (``mip.stage_offer``, ``stage_price``,
``stage_plan``); only small summaries go through XCom. A gate fails its task (no retry: the data
would fail again) when more than ``publish.gates.max_rejected_percent`` of its rows fail; the
failing rows are in ``mip.rejected_rows`` either way. A channel without ``publish:`` settings skips
every step. Submission of the plan (feeds, wait, apply) follows ``plan``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, task

from mip.airflow.common import channel_dag, check_channel
from mip.config import Channel, Topology


def _run(channel_id: str):
    """The channel's ``RunContext`` for the running task; skips the task when nothing is published."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    from mip.config import load_topology
    from mip.listings.stages import NotPublished, RunContext, publish_settings

    context = get_current_context()
    channel = load_topology().channel(channel_id)
    try:
        publish_settings(channel)
    except NotPublished as exc:
        raise AirflowSkipException(str(exc)) from None
    return context, RunContext(channel, context["run_id"], context["dag"].dag_id, context["task"].task_id)


def _gate(channel_id: str, step: str) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.listings import stages

    _, run = _run(channel_id)
    with mip_db() as conn:  # committed before the verdict: rejected rows stay recorded on failure
        result = getattr(stages, step)(conn, run)
    print(result.message())
    if not result.passed:
        raise AirflowFailException(result.message())
    return result.summary()


@task(task_id="select")
def select(channel_id: str) -> dict[str, Any]:
    """Supplier products matching the channel's selection -> mip.stage_offer."""
    from mip.airflow.db import mip_db
    from mip.listings.stages import select_offers

    _, run = _run(channel_id)
    with mip_db() as conn:
        summary = select_offers(conn, run)
    print(f"selected {summary['selected']:,} of {summary['catalog_products']:,} catalog products")
    return summary


@task(task_id="gate_offers")
def gate_offers(channel_id: str) -> dict[str, Any]:
    """Suite catalog_offer (EAN checksum, title, brand, image, cost) over mip.stage_offer."""
    return _gate(channel_id, "gate_offers")


@task(task_id="price")
def price(channel_id: str) -> dict[str, Any]:
    """The channel's pricing strategy -> mip.stage_price (every input and the rule of every price)."""
    from mip.airflow.db import mip_db
    from mip.listings.stages import price_offers

    _, run = _run(channel_id)
    with mip_db() as conn:
        summary = price_offers(conn, run)
    print(f"priced {summary['priced']:,}; by rule {summary['by_rule']}; floor applied {summary['floor_applied']:,}")
    return summary


@task(task_id="gate_prices")
def gate_prices(channel_id: str) -> dict[str, Any]:
    """Suite price (positive, floor, bounded change vs the last accepted price) over mip.stage_price."""
    return _gate(channel_id, "gate_prices")


@task(task_id="plan")
def plan(channel_id: str) -> dict[str, Any]:
    """Diff against mip.listings -> mip.stage_plan: UPDATE, offer-only PATCH, DELETE, or nothing."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.listings.planning import PlanRefused, plan_changes

    context, run = _run(channel_id)
    allow = bool(context["params"].get("allow_mass_delete", False))
    refusal: PlanRefused | None = None
    with mip_db() as conn:  # the plan is committed even when refused, for inspection
        try:
            summary = plan_changes(conn, run, allow_mass_delete=allow)
        except PlanRefused as exc:
            refusal = exc
    if refusal is not None:
        raise AirflowFailException(str(refusal))
    print(f"plan: {summary.as_dict()}")
    return summary.as_dict()


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "publish",
        topology,
        channel,
        schedule="@daily",
        title="Product publishing",
        what="Selects, prices and publishes the supplier's products to this main channel: select -> gate -> "
        "price -> gate -> plan (then submission). Every step's output is a table (`mip.stage_offer`, "
        "`mip.stage_price`, `mip.stage_plan`) keyed by the run id; failing rows are in `mip.rejected_rows`.",
        params={
            "allow_mass_delete": Param(
                False,
                type="boolean",
                description="Let this run delete more than publish.gates.max_delete_percent of the channel's "
                "MIP listings (e.g. after deliberately narrowing the selection).",
            )
        },
    ) as dag:
        (
            check_channel(channel.id)
            >> select(channel.id)
            >> gate_offers(channel.id)
            >> price(channel.id)
            >> gate_prices(channel.id)
            >> plan(channel.id)
        )
    return dag
