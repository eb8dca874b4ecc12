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

from airflow.sdk import DAG, Param, PokeReturnValue, task

from mip.airflow.adapter import run_step
from mip.airflow.common import MAP_LABEL, channel_dag, check_channel, label_mapped_task, sp_api_pool
from mip.config import Channel, Topology
from mip.listings import steps

ROLES = ("main",)  # MIP publishes to main channels only (international ones get Amazon's copies)
# Seconds between two getFeed polls of ``wait`` (reschedule mode); Amazon takes minutes per feed.
FEED_POKE_SECONDS = float(os.environ.get("MIP_FEED_POKE_SECONDS", "60"))
FEED_TIMEOUT = timedelta(hours=12).total_seconds()


@task(task_id="select")
def select(channel_id: str) -> dict[str, Any]:
    """Supplier products matching the channel's selection -> mip.stage_offer."""
    return run_step(steps.select, channel_id)


@task(task_id="gate_offers")
def gate_offers(channel_id: str) -> dict[str, Any]:
    """Suite catalog_offer (EAN checksum, title, brand, image, cost) over mip.stage_offer."""
    return run_step(steps.gate_offers, channel_id)


@task(task_id="price")
def price(channel_id: str) -> dict[str, Any]:
    """The channel's pricing strategy -> mip.stage_price (every input and the rule of every price)."""
    return run_step(steps.price, channel_id)


@task(task_id="gate_prices")
def gate_prices(channel_id: str) -> dict[str, Any]:
    """Suite price (positive, floor, bounded change vs the last accepted price) over mip.stage_price."""
    return run_step(steps.gate_prices, channel_id)


@task(task_id="plan")
def plan(channel_id: str, offers_only: bool = False, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Diff against mip.listings -> mip.stage_plan: UPDATE, offer-only PATCH, DELETE, or nothing."""
    allow = bool((params or {}).get("allow_mass_delete", False))
    return run_step(steps.plan, channel_id, offers_only=offers_only, allow_mass_delete=allow)


@task(task_id="batches")
def batches(channel_id: str) -> list[dict[str, Any]]:
    """The plan split into feed documents (SKU ranges): one ``submit`` task each."""
    return run_step(steps.batches, channel_id)


@task(task_id="submit", retries=3, map_index_template=MAP_LABEL)
def submit(channel_id: str, batch: dict[str, Any]) -> int | None:
    """Build the batch's document, record it, then send it (resumes a recorded submission)."""
    return run_step(steps.submit, channel_id, gateway=True, batch=batch, label=label_mapped_task)


@task.sensor(
    task_id="wait",
    poke_interval=FEED_POKE_SECONDS,
    mode="reschedule",
    timeout=FEED_TIMEOUT,
    retries=2,
    map_index_template=MAP_LABEL,
)
def wait(channel_id: str, submission_id: int | None) -> PokeReturnValue:
    """Poll getFeed until Amazon has processed the document (reschedule mode)."""
    if submission_id is None:
        label_mapped_task("nothing sent")
        return PokeReturnValue(is_done=True)
    done = run_step(steps.poll_feed, channel_id, gateway=True, submission_id=submission_id, label=label_mapped_task)
    return PokeReturnValue(is_done=done)


@task(task_id="apply", retries=3, map_index_template=MAP_LABEL)
def apply(channel_id: str, submission_id: int | None) -> dict[str, Any] | None:
    """Amazon's processing report, per SKU, into mip.listings."""
    if submission_id is None:
        label_mapped_task("nothing sent")
        return None
    return run_step(steps.apply, channel_id, gateway=True, submission_id=submission_id, label=label_mapped_task)


@task(task_id="acceptance_gate")
def acceptance_gate(channel_id: str) -> dict[str, Any]:
    """Fail the run when Amazon accepted too little; the message names the top issue codes."""
    return run_step(steps.acceptance_gate, channel_id)


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
    ) as dag:
        _steps(channel, offers_only=True)
    return dag
