"""Executing an approved plan: DELETE feeds, their outcome per SKU, verification, the audit.

- ``submit``: the plan's rows still to delete (``planned``, or ``failed`` in an earlier run) become
  DELETE messages in JSON_LISTINGS_FEED documents, each recorded through ``mip.listings.submission``
  before it is sent (batch key ``migrate:<plan>:<run>:<first SKU>``, so a retried task finds its
  documents instead of sending them twice); the rows become ``submitted`` with their submission.
- ``poll_feeds``: one getFeed per unfinished submission of the plan.
- ``apply``: each processing report, per SKU: accepted -> ``deleted``; an ERROR issue, or a FATAL or
  cancelled feed -> ``failed`` with the issues (approving the plan again retries exactly those).
- ``verify``: every ``deleted`` SKU is looked up (getListingsItem); a 404 makes it ``verified``.
- ``finish``: the plan's verdict (``completed`` once every row is verified, else ``partial``, e.g. while
  rows wait for MIP's copy) and the ``executed`` audit entry: who approved, what this run deleted, what
  failed and why, what waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mip.amazon import apis
from mip.amazon import feeds as amazon_feeds
from mip.listings import submission
from mip.listings.feeds import InvalidMessage, iter_documents
from mip.listings.payloads import delete_message
from mip.listings.sku import is_mip_sku
from mip.migration import audit
from mip.store.db import one

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.config import Account, Channel

VERIFY_BATCH = 50


class UnsafeDeletion(RuntimeError):
    """A DELETE for a MIP-managed SKU was about to be built: refused (a bug upstream)."""


@dataclass(frozen=True)
class Execution:
    channel: Channel
    account: Account
    plan_id: str
    run_id: str
    dag_id: str | None

    @property
    def country(self) -> str:
        return self.channel.country


@dataclass
class FinishOutcome:
    status: str
    counts: dict[str, int]
    deleted_this_run: list[str]
    failed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.status == "completed"

    @property
    def settled(self) -> bool:
        """Nothing failed or is left to send or confirm: what remains (if anything) waits for MIP's copies."""
        pending = self.counts.get("planned", 0) + self.counts.get("submitted", 0)
        return not (self.failed or self.unverified or pending)

    def message(self, plan_id: str, channel_id: str) -> str:
        text = (
            f"plan {plan_id}: {self.counts.get('verified', 0):,} listings deleted and verified in all, "
            f"{len(self.deleted_this_run):,} by this run"
        )
        if self.failed:
            groups: dict[str, list[str]] = {}
            for sku, issues in self.failed.items():
                groups.setdefault(_codes(issues)[0] if issues else "no issue given", []).append(sku)
            shown = "; ".join(
                f"{len(skus):,} x {issue} ({', '.join(skus[:3])}{', ...' if len(skus) > 3 else ''})"
                for issue, skus in sorted(groups.items(), key=lambda g: -len(g[1]))[:5]
            )
            text += (
                f". {len(self.failed):,} could not be deleted: {shown}. Fix what the issues say if needed, then "
                f"trigger mip_migrate_csv__{channel_id} again with approve_plan_id = {plan_id} and dry_run = "
                "false: it retries exactly those"
            )
        if self.unverified:
            text += (
                f". {len(self.unverified):,} DELETEs were accepted but the listings are still found "
                f"({', '.join(self.unverified[:10])}): approve the plan again later to re-verify"
            )
        pending = self.counts.get("planned", 0) + self.counts.get("submitted", 0)
        if pending:
            text += f". {pending:,} still waiting to be sent or processed: approve the plan again to finish"
        if self.counts.get("waiting"):
            text += (
                f". {self.counts['waiting']:,} wait for MIP's own listing of their product to be live on Amazon "
                f"(buyers keep an offer): once mip_publish__{channel_id} has published them, approve plan {plan_id} "
                "again to delete them"
            )
        return text


def _codes(issues: list[dict[str, Any]]) -> list[str]:
    def short(text: str) -> str:
        return text if len(text) <= 100 else text[:100].rstrip() + "..."

    return [f"{i.get('code')} {short(str(i.get('message', '')))}" for i in issues[:2]]


def submit(conn: psycopg.Connection, gateway: SpApiGateway, run: Execution) -> dict[str, int]:
    """Record and send DELETE documents for the rows still to delete; resume unsent submissions."""
    skus = [
        s
        for (s,) in conn.execute(
            "SELECT sku FROM mip.migration_plans WHERE plan_id = %s AND status IN ('planned', 'failed') ORDER BY sku",
            (run.plan_id,),
        )
    ]
    managed = [s for s in skus if is_mip_sku(s)] + [
        s
        for (s,) in conn.execute(
            "SELECT sku FROM mip.listings WHERE channel_id = %s AND sku = ANY(%s)", (run.channel.id, skus)
        )
    ]
    if managed:
        raise UnsafeDeletion(f"plan {run.plan_id} holds MIP-managed SKUs {managed[:5]}: nothing is sent")
    invalid: list[InvalidMessage] = []
    recorded = 0
    market = run.channel.marketplace
    for document in iter_documents(
        (delete_message(s) for s in skus),
        seller_id=run.account.seller_id,
        issue_locale=market.language_tag,
        invalid=invalid,
    ):
        sub = submission.record(
            conn,
            batch_key=f"migrate:{run.plan_id}:{run.run_id}:{document.skus[0]}",
            channel_id=run.channel.id,
            dag_id=run.dag_id or "mip_migrate_csv",
            run_id=run.run_id,
            account_id=run.account.id,
            seller_id=run.account.seller_id,
            marketplace_id=market.marketplace_id,
            document=document,
        )
        sent_skus = one(conn.execute("SELECT skus FROM mip.feed_submissions WHERE id = %s", (sub.id,)))[0]
        conn.execute(
            "UPDATE mip.migration_plans SET status = 'submitted', submission_id = %s, executed_run_id = %s, "
            "issues = '[]', updated_at = now() WHERE plan_id = %s AND sku = ANY(%s) "
            "AND status IN ('planned', 'failed')",
            (sub.id, run.run_id, run.plan_id, list(sent_skus)),
        )
        conn.commit()
        recorded += 1
    for bad in invalid:
        _fail(conn, run, [bad.sku], [{"code": "schema", "severity": "ERROR", "message": p} for p in bad.problems])
    sent = 0
    for submission_id in _submissions(conn, run.plan_id):
        if submission.load(conn, submission_id=submission_id).feed_id is None:
            submission.send(conn, gateway, submission_id, run.country)
            sent += 1
    return {"to_delete": len(skus), "documents": recorded, "sent": sent, "invalid": len(invalid)}


def _submissions(conn: psycopg.Connection, plan_id: str) -> list[int]:
    return [
        s
        for (s,) in conn.execute(
            "SELECT DISTINCT submission_id FROM mip.migration_plans WHERE plan_id = %s AND status = 'submitted' "
            "AND submission_id IS NOT NULL ORDER BY 1",
            (plan_id,),
        )
    ]


def _fail(conn: psycopg.Connection, run: Execution, skus: list[str], issues: list[dict[str, Any]]) -> None:
    conn.execute(
        "UPDATE mip.migration_plans SET status = 'failed', issues = %s, executed_run_id = %s, updated_at = now() "
        "WHERE plan_id = %s AND sku = ANY(%s)",
        (json.dumps(issues), run.run_id, run.plan_id, skus),
    )
    conn.commit()


def poll_feeds(conn: psycopg.Connection, gateway: SpApiGateway, run: Execution) -> dict[str, str]:
    """Processing status of each submission of the plan still waiting for its outcome (getFeed if unfinished)."""
    statuses = {}
    for submission_id in _submissions(conn, run.plan_id):
        current = submission.load(conn, submission_id=submission_id)
        status = current.processing_status
        if status not in amazon_feeds.DONE_STATUSES:
            status = submission.poll(conn, gateway, submission_id, run.country)
        statuses[current.feed_id or str(submission_id)] = status
    return statuses


def apply(conn: psycopg.Connection, gateway: SpApiGateway, run: Execution) -> dict[str, Any]:
    """Per-SKU outcome of every finished submission of the plan."""
    deleted, failed, waiting = 0, {}, 0
    for submission_id in _submissions(conn, run.plan_id):
        if submission.load(conn, submission_id=submission_id).processing_status not in amazon_feeds.DONE_STATUSES:
            waiting += 1
            continue
        result = submission.outcome(conn, gateway, submission_id, run.country)
        mine = {
            s
            for (s,) in conn.execute(
                "SELECT sku FROM mip.migration_plans WHERE plan_id = %s AND "
                "submission_id = %s AND status = 'submitted'",
                (run.plan_id, submission_id),
            )
        }
        accepted = [s for s in result.accepted if s in mine]
        for sku in accepted:
            conn.execute(
                "UPDATE mip.migration_plans SET status = 'deleted', deleted_at = now(), issues = %s, "
                "updated_at = now() WHERE plan_id = %s AND sku = %s",
                (json.dumps(result.warnings.get(sku, [])), run.plan_id, sku),
            )
        for sku, issues in result.rejected.items():
            if sku in mine:
                conn.execute(
                    "UPDATE mip.migration_plans SET status = 'failed', issues = %s, updated_at = now() "
                    "WHERE plan_id = %s AND sku = %s",
                    (json.dumps(issues), run.plan_id, sku),
                )
                failed[sku] = issues
        conn.commit()
        deleted += len(accepted)
    return {"deleted": deleted, "failed": failed, "waiting_submissions": waiting}


def verify(conn: psycopg.Connection, gateway: SpApiGateway, run: Execution) -> dict[str, int]:
    """getListingsItem for every ``deleted`` SKU of the plan: 404 -> ``verified``. Returns the counts."""
    marketplace_id = run.channel.marketplace.marketplace_id
    seller_id = run.account.seller_id
    skus = [
        s
        for (s,) in conn.execute(
            "SELECT sku FROM mip.migration_plans WHERE plan_id = %s AND status = 'deleted' ORDER BY sku", (run.plan_id,)
        )
    ]

    def gone(sku: str) -> bool:
        return apis.listing_absent(gateway, run.country, seller_id, sku, marketplace_id)

    verified = 0
    still: list[str] = []
    for start in range(0, len(skus), VERIFY_BATCH):
        batch = skus[start : start + VERIFY_BATCH]
        absent = [s for s in batch if gone(s)]
        still.extend(s for s in batch if s not in absent)
        conn.execute(
            "UPDATE mip.migration_plans SET status = 'verified', verified_at = now(), updated_at = now() "
            "WHERE plan_id = %s AND sku = ANY(%s) AND status = 'deleted'",
            (run.plan_id, absent),
        )
        conn.commit()
        verified += len(absent)
    return {"checked": len(skus), "verified": verified, "still_listed": len(still)}


def finish(conn: psycopg.Connection, run: Execution, *, approved_by: str) -> FinishOutcome:
    """The plan's status after this run, and the ``executed`` audit entry."""
    counts: dict[str, int] = dict(
        conn.execute(
            "SELECT status, count(*) FROM mip.migration_plans WHERE plan_id = %s AND status <> 'excluded' "
            "GROUP BY status",
            (run.plan_id,),
        ).fetchall()
    )
    deleted_now = [
        s
        for (s,) in conn.execute(
            "SELECT sku FROM mip.migration_plans WHERE plan_id = %s AND executed_run_id = %s AND status IN "
            "('deleted', 'verified') ORDER BY sku",
            (run.plan_id, run.run_id),
        )
    ]
    failed = {
        s: i
        for s, i in conn.execute(
            "SELECT sku, issues FROM mip.migration_plans WHERE plan_id = %s AND status = 'failed' ORDER BY sku",
            (run.plan_id,),
        )
    }
    unverified = [
        s
        for (s,) in conn.execute(
            "SELECT sku FROM mip.migration_plans WHERE plan_id = %s AND status = 'deleted' ORDER BY sku", (run.plan_id,)
        )
    ]
    left = sum(n for status, n in counts.items() if status != "verified")
    status = "completed" if not left else "partial"
    conn.execute(
        "UPDATE mip.migration_plan_headers SET status = %s, completed_at = CASE WHEN %s THEN now() END "
        "WHERE plan_id = %s",
        (status, status == "completed", run.plan_id),
    )
    conn.commit()
    outcome = FinishOutcome(status, counts, deleted_now, failed, unverified)
    audit.record(
        conn,
        plan_id=run.plan_id,
        channel_id=run.channel.id,
        action="executed",
        actor=approved_by,
        dag_id=run.dag_id,
        run_id=run.run_id,
        message=outcome.message(run.plan_id, run.channel.id),
        details={
            "status": status,
            "counts": counts,
            "deleted": deleted_now,
            "failed": {s: _codes(i) for s, i in failed.items()},
            "unverified": unverified,
        },
    )
    return outcome
