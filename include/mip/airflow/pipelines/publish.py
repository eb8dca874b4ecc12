"""``mip_publish__<channel>`` (and ``mip_offers__<channel>``): keep a main channel's listings in step.

check_channel -> select -> gate_offers -> price -> gate_prices -> plan -> batches -> submit[] ->
wait[] -> apply[] -> acceptance_gate. Every task reads its input table filtered by the run and
writes its output table (``mip.stage_offer``, ``stage_price``, ``stage_plan``,
``feed_submissions``, ``listings``); only small summaries go through XCom. A gate fails its task (no
retry: the data would fail again) when more than ``publish.gates.max_rejected_percent`` of its rows
fail; the failing rows are in ``mip.rejected_rows`` either way. A channel without ``publish:``
settings skips every step.

Submission: one mapped ``submit`` per feed document (<= 25,000 messages, < 10 MiB), recorded in
``mip.feed_submissions`` before anything is sent, so a retried task resumes and never submits twice;
``wait`` polls getFeed in reschedule mode (no worker slot held between polls); ``apply`` records
Amazon's processing report per SKU; ``acceptance_gate`` fails the run below
``publish.gates.min_acceptance_percent`` naming the top issue codes. SP-API tasks run in the
account's pool (``sp_api__<account>``).

``mip_offers__<channel>`` runs the same steps every 15 minutes with an offers-only plan: PATCH
messages for price and stock changes; new content and deletions wait for ``mip_publish``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from mip.airflow.common import MAP_LABEL, channel_dag, check_channel, label_mapped_task, skip, sp_api_pool
from mip.config import Channel, Topology

# Seconds between two getFeed polls of ``wait`` (reschedule mode); Amazon takes minutes per feed.
FEED_POKE_SECONDS = float(os.environ.get("MIP_FEED_POKE_SECONDS", "60"))
FEED_TIMEOUT = timedelta(hours=12)


def _run(channel_id: str):
    """The channel's ``RunContext`` for the running task; skips the task when nothing is published."""
    from airflow.sdk import get_current_context

    from mip.config import load_topology
    from mip.listings.stages import NotPublished, RunContext, publish_settings

    context = get_current_context()
    topology = load_topology()
    channel = topology.channel(channel_id)
    try:
        publish_settings(channel)
    except NotPublished as exc:
        skip(str(exc))
    # The stage key names the DAG too: mip_publish and mip_offers of a channel share the stage tables.
    dag_id = context["dag"].dag_id
    key = f"{dag_id}/{context['run_id']}"
    return context, RunContext(channel, key, dag_id, context["task"].task_id, topology.catalog.language)


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
def plan(channel_id: str, offers_only: bool = False) -> dict[str, Any]:
    """Diff against mip.listings -> mip.stage_plan: UPDATE, offer-only PATCH, DELETE, or nothing."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.listings.planning import ALL_OPERATIONS, OFFERS_ONLY, MassDeletionRefused, plan_changes

    context, run = _run(channel_id)
    allow = bool(context["params"].get("allow_mass_delete", False))
    refusal: MassDeletionRefused | None = None
    with mip_db() as conn:  # the plan is committed even when refused, for inspection
        try:
            summary = plan_changes(
                conn, run, allow_mass_delete=allow, operations=OFFERS_ONLY if offers_only else ALL_OPERATIONS
            )
        except MassDeletionRefused as exc:
            refusal = exc
    if refusal is not None:
        raise AirflowFailException(str(refusal))
    print(f"plan: {summary.as_dict()}")
    return summary.as_dict()


def _seller(channel: Channel) -> tuple[Any, str, str]:
    from mip.config import load_topology

    account = load_topology().account_of(channel)
    return account, account.seller_id, channel.marketplace.language_tag


@task(task_id="batches")
def batches(channel_id: str) -> list[dict[str, Any]]:
    """The plan split into feed documents (SKU ranges): one ``submit`` task each."""
    from mip.airflow.db import mip_db
    from mip.listings.planning import plan_feed_batches

    _, run = _run(channel_id)
    _, seller_id, locale = _seller(run.channel)
    with mip_db() as conn:
        found = plan_feed_batches(conn, channel_id, run.run_id, seller_id=seller_id, issue_locale=locale)
    print(f"{sum(b.message_count for b in found):,} messages in {len(found)} feed document(s)")
    return [
        {"index": b.index, "first_sku": b.first_sku, "last_sku": b.last_sku, "messages": b.message_count} for b in found
    ]


def _label_submission(conn: Any, submission_id: int) -> None:
    from mip.listings import submission

    found = submission.load(conn, submission_id=submission_id)
    label_mapped_task(f"submission {submission_id}: {found.message_count:,} messages")


@task(task_id="submit", retries=3, map_index_template=MAP_LABEL)
def submit(channel_id: str, batch: dict[str, Any]) -> int | None:
    """Build the batch's document, record it, then send it (resumes a recorded submission)."""
    from mip.airflow.db import mip_db
    from mip.airflow.hooks.sp_api import account_gateway
    from mip.listings import submission
    from mip.listings.apply import record_rejected
    from mip.listings.feeds import iter_documents
    from mip.listings.planning import iter_plan_messages

    label_mapped_task(f"document {batch['index']}: {batch['messages']:,} messages")
    _, run = _run(channel_id)
    account, seller_id, locale = _seller(run.channel)
    invalid: list = []
    with mip_db() as conn:
        documents = list(
            iter_documents(
                iter_plan_messages(
                    conn, channel_id, run.run_id, first_sku=batch["first_sku"], last_sku=batch["last_sku"]
                ),
                seller_id=seller_id,
                issue_locale=locale,
                invalid=invalid,
            )
        )
        record_rejected(
            conn,
            run,
            {i.sku: [{"code": "SCHEMA", "severity": "ERROR", "message": "; ".join(i.problems)}] for i in invalid},
        )
        if invalid:
            print(
                f"{len(invalid)} message(s) fail Amazon's feed schema and were not sent: "
                f"{[(i.sku, i.problems[:1]) for i in invalid[:5]]}"
            )
        if not documents:
            return None
        (document,) = documents  # a batch is one document by construction (plan_feed_batches)
        recorded = submission.record(
            conn,
            batch_key=f"{run.run_id}#{batch['index']}",
            channel_id=channel_id,
            dag_id=run.dag_id,
            run_id=run.run_id,
            account_id=account.id,
            seller_id=seller_id,
            marketplace_id=run.channel.marketplace.marketplace_id,
            document=document,
        )
    with mip_db() as conn, account_gateway(account) as gw:
        feed_id = submission.send(conn, gw, recorded.id, run.channel.country)
    print(
        f"document {batch['index']}: {document.message_count:,} messages, {len(document.body):,} bytes -> "
        f"feed {feed_id} (submission {recorded.id})"
    )
    return recorded.id


@task.sensor(
    task_id="wait",
    poke_interval=FEED_POKE_SECONDS,
    mode="reschedule",
    timeout=FEED_TIMEOUT,
    retries=2,
    map_index_template=MAP_LABEL,
)
def wait(channel_id: str, submission_id: int | None):
    """Poll getFeed until Amazon has processed the document (reschedule mode)."""
    from airflow.sdk import PokeReturnValue

    from mip.airflow.db import mip_db
    from mip.airflow.hooks.sp_api import account_gateway
    from mip.amazon.feeds import DONE_STATUSES
    from mip.listings import submission

    if submission_id is None:
        label_mapped_task("nothing sent")
        return PokeReturnValue(is_done=True)
    _, run = _run(channel_id)
    account, _, _ = _seller(run.channel)
    with mip_db() as conn, account_gateway(account) as gw:
        _label_submission(conn, submission_id)
        status = submission.poll(conn, gw, submission_id, run.channel.country)
    print(f"submission {submission_id}: {status}")
    return PokeReturnValue(is_done=status in DONE_STATUSES)


@task(task_id="apply", retries=3, map_index_template=MAP_LABEL)
def apply(channel_id: str, submission_id: int | None) -> dict[str, Any] | None:
    """Amazon's processing report, per SKU, into mip.listings."""
    from mip.airflow.db import mip_db
    from mip.airflow.hooks.sp_api import account_gateway
    from mip.listings import submission
    from mip.listings.apply import apply_outcome

    if submission_id is None:
        label_mapped_task("nothing sent")
        return None
    _, run = _run(channel_id)
    account, _, _ = _seller(run.channel)
    with mip_db() as conn, account_gateway(account) as gw:
        _label_submission(conn, submission_id)
        outcome = submission.outcome(conn, gw, submission_id, run.channel.country)
        result = apply_outcome(conn, run, outcome)
    print(f"submission {submission_id}: {result}")
    return result


@task(task_id="acceptance_gate")
def acceptance_gate(channel_id: str) -> dict[str, Any]:
    """Fail the run when Amazon accepted too little; the message names the top issue codes."""
    from airflow.sdk.exceptions import AirflowFailException

    from mip.airflow.db import mip_db
    from mip.listings.apply import acceptance

    _, run = _run(channel_id)
    with mip_db() as conn:
        result = acceptance(conn, run.dag_id, run.run_id)
    minimum = float(run.settings.gates.min_acceptance_percent)
    print(result.message(minimum))
    if result.fatal or result.percent < minimum:
        raise AirflowFailException(result.message(minimum))
    return {"messages": result.messages, "accepted": result.accepted, "percent": round(result.percent, 2)}


def _steps(channel: Channel, offers_only: bool) -> None:
    documents = batches(channel.id)
    pool = sp_api_pool(channel.account)
    submitted = submit.override(pool=pool).partial(channel_id=channel.id).expand(batch=documents)
    processed = wait.override(pool=pool).partial(channel_id=channel.id).expand(submission_id=submitted)
    applied = apply.override(pool=pool).partial(channel_id=channel.id).expand(submission_id=submitted)
    (
        check_channel(channel.id)
        >> select(channel.id)
        >> gate_offers(channel.id)
        >> price(channel.id)
        >> gate_prices(channel.id)
        >> plan(channel.id, offers_only)
        >> documents
    )
    processed >> applied >> acceptance_gate(channel.id)


MASS_DELETE_PARAM = Param(
    False,
    type="boolean",
    description="Let this run delete more than publish.gates.max_delete_percent of the channel's MIP listings "
    "(e.g. after deliberately narrowing the selection).",
)


def build(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "publish",
        topology,
        channel,
        schedule="@daily",
        title="Product publishing",
        what="Selects, prices and publishes the supplier's products to this main channel: select -> gate -> "
        "price -> gate -> plan -> feed documents submitted, processed and applied -> acceptance gate. Every "
        "step's output is a table (`mip.stage_offer`, `mip.stage_price`, `mip.stage_plan`, "
        "`mip.feed_submissions`, `mip.listings`) keyed by the run; failing rows are in `mip.rejected_rows`.",
        params={"allow_mass_delete": MASS_DELETE_PARAM},
    ) as dag:
        _steps(channel, offers_only=False)
    return dag


def build_offers(topology: Topology, channel: Channel) -> DAG:
    with channel_dag(
        "offers",
        topology,
        channel,
        schedule="*/15 * * * *",
        title="Offer updates",
        what="Every 15 minutes: the same steps as mip_publish with an offers-only plan — PATCH messages for "
        "price and stock changes; new content and deletions wait for mip_publish.",
    ) as dag:
        _steps(channel, offers_only=True)
    return dag
