"""The publishing steps as ``mip_publish__<channel>`` and ``mip_offers__<channel>`` run them, one per task.

Each is a domain step ``step(key, conn, [gateway], **params)`` (``mip.runs``): ``key`` is the Airflow run's,
and every step works on the run's stage key (``stages.stage_key``: the DAG id and the run id, so both DAGs of a
channel share the stage tables). A channel without ``publish:`` settings skips every step (``StepSkipped``).
A gate past its threshold, a refused plan and a low acceptance fail with ``StepFailed`` (no retry: the data
would fail again) after committing what they recorded, so the rejected rows and the refused plan stay
inspectable. ``label`` names a mapped task in the grid (``mip.airflow.common.label_mapped_task``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mip.runs import RunKey, StepFailed, StepSkipped

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.config import Account
    from mip.quality.gate import GateResult

log = logging.getLogger(__name__)

Label = Callable[[str], None]


def _unlabelled(_: str) -> None:
    """The default ``label``: outside Airflow a step has no grid to name."""


def _count(number: int) -> str:
    return f"{number:,}"


def _stage(key: RunKey) -> RunKey:
    """The run's stage key; ``StepSkipped`` when the channel is not published to."""
    from mip.listings.stages import NotPublished, publish_settings, stage_key

    try:
        publish_settings(key.channel)
    except NotPublished as exc:
        raise StepSkipped(str(exc)) from None
    return stage_key(key)


def _account(run: RunKey) -> Account:
    from mip.config import load_topology

    return load_topology().account_of(run.channel)


def _verdict(conn: psycopg.Connection, result: GateResult) -> dict[str, Any]:
    log.info("%s", result.message())
    if not result.passed:
        conn.commit()  # the rejected rows stay recorded although the step fails
        raise StepFailed(result.message())
    return result.summary()


def select(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """Supplier products matching the channel's selection -> ``mip.stage_offer``."""
    from mip.config import load_topology
    from mip.listings.stages import select_offers

    summary = select_offers(conn, _stage(key), catalog_language=load_topology().catalog.language)
    log.info("selected %s of %s catalog products", _count(summary["selected"]), _count(summary["catalog_products"]))
    return summary


def gate_offers(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """Suite catalog_offer (EAN checksum, title, brand, image, cost) over ``mip.stage_offer``."""
    from mip.listings import stages

    return _verdict(conn, stages.gate_offers(conn, _stage(key)))


def price(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """The channel's pricing strategy -> ``mip.stage_price`` (every input and the rule of every price)."""
    from mip.listings.stages import price_offers

    summary = price_offers(conn, _stage(key))
    log.info(
        "priced %s; by rule %s; floor applied %s",
        _count(summary["priced"]),
        summary["by_rule"],
        _count(summary["floor_applied"]),
    )
    return summary


def gate_prices(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """Suite price (positive, floor, bounded change vs the last accepted price) over ``mip.stage_price``."""
    from mip.listings import stages

    return _verdict(conn, stages.gate_prices(conn, _stage(key)))


def plan(
    key: RunKey, conn: psycopg.Connection, *, offers_only: bool = False, allow_mass_delete: bool = False
) -> dict[str, int]:
    """Diff against ``mip.listings`` -> ``mip.stage_plan``: UPDATE, offer-only PATCH, DELETE, or nothing.
    A refused mass delete fails the step with the plan committed, for inspection."""
    from mip.listings.planning import ALL_OPERATIONS, OFFERS_ONLY, MassDeletionRefused, plan_changes

    operations = OFFERS_ONLY if offers_only else ALL_OPERATIONS
    try:
        summary = plan_changes(conn, _stage(key), allow_mass_delete=allow_mass_delete, operations=operations)
    except MassDeletionRefused as exc:
        conn.commit()
        raise StepFailed(str(exc)) from None
    log.info("plan: %s", summary.as_dict())
    return summary.as_dict()


def batches(key: RunKey, conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The plan split into feed documents (SKU ranges): one ``submit`` each."""
    from mip.listings.planning import plan_feed_batches

    run = _stage(key)
    found = plan_feed_batches(
        conn,
        run.channel_id,
        run.run_id,
        seller_id=_account(run).seller_id,
        issue_locale=run.channel.marketplace.language_tag,
    )
    log.info("%s messages in %d feed document(s)", _count(sum(b.message_count for b in found)), len(found))
    return [
        {"index": b.index, "first_sku": b.first_sku, "last_sku": b.last_sku, "messages": b.message_count} for b in found
    ]


def submit(
    key: RunKey,
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    *,
    batch: dict[str, Any],
    label: Label = _unlabelled,
) -> int | None:
    """Build the batch's document, record it (committed), then send it; a recorded submission is resumed, never
    sent twice. Messages that fail Amazon's feed schema are recorded as rejected and not sent."""
    from mip.listings import submission
    from mip.listings.apply import record_rejected
    from mip.listings.feeds import iter_documents
    from mip.listings.planning import iter_plan_messages

    label(f"document {batch['index']}: {batch['messages']:,} messages")
    run = _stage(key)
    account = _account(run)
    invalid: list = []
    messages = iter_plan_messages(
        conn, run.channel_id, run.run_id, first_sku=batch["first_sku"], last_sku=batch["last_sku"]
    )
    documents = list(
        iter_documents(
            messages, seller_id=account.seller_id, issue_locale=run.channel.marketplace.language_tag, invalid=invalid
        )
    )
    record_rejected(
        conn,
        run,
        {i.sku: [{"code": "SCHEMA", "severity": "ERROR", "message": "; ".join(i.problems)}] for i in invalid},
    )
    if invalid:
        log.warning(
            "%d message(s) fail Amazon's feed schema and were not sent: %s",
            len(invalid),
            [(i.sku, i.problems[:1]) for i in invalid[:5]],
        )
    if not documents:
        return None
    (document,) = documents  # a batch is one document by construction (plan_feed_batches)
    recorded = submission.record(  # commits: recorded before anything is sent
        conn,
        batch_key=f"{run.run_id}#{batch['index']}",
        channel_id=run.channel_id,
        dag_id=run.dag_id or "",
        run_id=run.run_id,
        account_id=account.id,
        seller_id=account.seller_id,
        marketplace_id=run.channel.marketplace.marketplace_id,
        document=document,
    )
    feed_id = submission.send(conn, gateway, recorded.id, run.channel.country)
    log.info(
        "document %s: %s messages, %s bytes -> feed %s (submission %s)",
        batch["index"],
        _count(document.message_count),
        _count(len(document.body)),
        feed_id,
        recorded.id,
    )
    return recorded.id


def _label_submission(conn: psycopg.Connection, submission_id: int, label: Label) -> None:
    from mip.listings import submission

    label(f"submission {submission_id}: {submission.load(conn, submission_id=submission_id).message_count:,} messages")


def poll_feed(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, *, submission_id: int, label: Label = _unlabelled
) -> bool:
    """One getFeed of the submission's feed; whether Amazon has finished processing it."""
    from mip.amazon.feeds import DONE_STATUSES
    from mip.listings import submission

    run = _stage(key)
    _label_submission(conn, submission_id, label)
    status = submission.poll(conn, gateway, submission_id, run.channel.country)
    log.info("submission %s: %s", submission_id, status)
    return status in DONE_STATUSES


def apply(
    key: RunKey, conn: psycopg.Connection, gateway: SpApiGateway, *, submission_id: int, label: Label = _unlabelled
) -> dict[str, Any]:
    """Amazon's processing report of the submission, per SKU, into ``mip.listings``."""
    from mip.listings import submission
    from mip.listings.apply import apply_outcome

    run = _stage(key)
    _label_submission(conn, submission_id, label)
    outcome = submission.outcome(conn, gateway, submission_id, run.channel.country)
    result = apply_outcome(conn, run, outcome)
    log.info("submission %s: %s", submission_id, result)
    return result


def acceptance_gate(key: RunKey, conn: psycopg.Connection) -> dict[str, Any]:
    """Fail the run when Amazon accepted less than ``publish.gates.min_acceptance_percent`` of its messages (or a
    feed ended FATAL); the message names the top issue codes."""
    from mip.listings.apply import acceptance
    from mip.listings.stages import publish_settings

    run = _stage(key)
    result = acceptance(conn, run.dag_id or "", run.run_id)
    minimum = float(publish_settings(run.channel).gates.min_acceptance_percent)
    log.info("%s", result.message(minimum))
    if result.fatal or result.percent < minimum:
        raise StepFailed(result.message(minimum))
    return {"messages": result.messages, "accepted": result.accepted, "percent": round(result.percent, 2)}
