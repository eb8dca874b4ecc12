"""Approving a plan: it runs only if it is still what the seller's account looks like now.

A run with ``approve_plan_id`` reads fresh listings (a new report, or the file again) and checks:

- the plan exists, belongs to this channel, and was not refused at planning;
- it is not older than ``max_age_days`` (``DEFAULT_MAX_AGE_DAYS``);
- every listing still to delete is listed unchanged (same ASIN, GTIN, fulfilment and title: the
  ``listing_hash`` taken when planning); a listing whose DELETE was already sent may be gone;
- none of them is a MIP SKU or fulfilled by Amazon now, and each still duplicates a product the
  channel publishes;
- what is left to delete is at most ``max_delete_fraction`` of the marketplace's listings now (the
  plan's own threshold unless the run overrides it).

Then MIP's own listing of each product is checked on Amazon again (``mip.migration.live``): a row whose
copy is live now is deleted (a ``waiting`` row of an earlier approval too), one whose copy is not waits
(``waiting``, with the reason) for a later approval. Waiting rows never refuse a plan.

Any failed check refuses the plan (audited as ``refused``, nothing deleted): make a new plan. A passing
check is audited as ``approved`` with the approver (or ``checked`` for a dry run, which deletes
nothing). Rows already deleted and verified by an earlier run are skipped, so a plan whose execution
partly failed is finished by approving it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from mip.listings.sku import is_mip_sku
from mip.migration import audit, stage
from mip.migration.catalog import read_catalog
from mip.migration.live import mip_copies
from mip.migration.plan import PlanContext

if TYPE_CHECKING:
    from mip.amazon.gateway import SpApiGateway

DEFAULT_MAX_AGE_DAYS = 7
TO_DELETE = ("planned", "failed", "waiting")  # must still be listed, unchanged
IN_FLIGHT = ("submitted", "deleted")  # a DELETE was sent: the listing may be gone already
SHOWN = 8


class PlanRefused(RuntimeError):
    """The plan cannot be executed now; the message says why and what to do."""


@dataclass(frozen=True)
class Approval:
    plan_id: str
    to_delete: int
    in_flight: int
    verified: int
    executes: bool
    message: str
    waiting: int = 0


def header(conn: psycopg.Connection, plan_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT *, now() - created_at AS age FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)
        ).fetchone()


def plan_source(conn: psycopg.Connection, plan_id: str) -> str | None:
    """What plan ``plan_id`` was made from: ``report``, or the path of the seller's file (None: no such plan)."""
    found = conn.execute(
        "SELECT source, coalesce(source_path, summary -> 'source' ->> 'path') FROM mip.migration_plan_headers "
        "WHERE plan_id = %s",
        (plan_id,),
    ).fetchone()
    if found is None:
        return None
    return found[1] if found[0] == "file" else "report"


def _refuse(conn: psycopg.Connection, ctx: PlanContext, plan_id: str, message: str, details: dict | None = None):
    audit.record(
        conn,
        plan_id=plan_id,
        channel_id=ctx.channel.id,
        action="refused",
        actor=ctx.actor,
        dag_id=ctx.dag_id,
        run_id=ctx.run_id,
        message=message,
        details=details,
    )
    return PlanRefused(message)


def _listed(skus: list[str]) -> str:
    return ", ".join(skus[:SHOWN]) + (f" and {len(skus) - SHOWN} more" if len(skus) > SHOWN else "")


def approve(
    conn: psycopg.Connection,
    ctx: PlanContext,
    plan_id: str,
    *,
    max_delete_fraction: float | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    dry_run: bool = False,
    gateway: SpApiGateway | None = None,
) -> Approval:
    """Check plan ``plan_id`` against the run's fresh listings; raises ``PlanRefused`` (audited).

    ``max_delete_fraction`` None: the plan's own. ``gateway``: to ask Amazon about MIP's copies when the
    run read the seller's file."""
    channel = ctx.channel
    found = _checked_header(conn, ctx, plan_id, max_age_days)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT sku, reference, status, listing_hash FROM mip.migration_plans WHERE plan_id = %s "
            "AND status <> 'excluded'",
            (plan_id,),
        ).fetchall()
    pending = [r for r in rows if r["status"] in TO_DELETE + IN_FLIGHT]
    total, max_delete_fraction = _check_listings(conn, ctx, plan_id, pending, found, max_delete_fraction)
    copies = mip_copies(
        conn,
        ctx.key,
        sorted({r["reference"] for r in pending if r["status"] in TO_DELETE}),
        channel=channel,
        account=ctx.account,
        gateway=gateway,
    )
    return _record(conn, ctx, plan_id, rows, pending, copies, total, max_delete_fraction, dry_run)


def _checked_header(conn: psycopg.Connection, ctx: PlanContext, plan_id: str, max_age_days: int) -> dict[str, Any]:
    """The plan's header, refused (audited) when there is none, it is another channel's, refused or stale."""
    channel = ctx.channel
    found = header(conn, plan_id)
    if found is None:
        latest = [
            r[0]
            for r in conn.execute(
                "SELECT plan_id FROM mip.migration_plan_headers WHERE channel_id = %s ORDER BY created_at DESC LIMIT 3",
                (channel.id,),
            )
        ]
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"there is no migration plan {plan_id!r} (latest plans of channel "
            f"{channel.id}: {', '.join(latest) or 'none'})",
        )
    if found["channel_id"] != channel.id:
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} belongs to channel {found['channel_id']}, not "
            f"{channel.id}: approve it in mip_migrate_csv__{found['channel_id']}",
        )
    if found["status"] == "refused":
        raise _refuse(
            conn, ctx, plan_id, f"plan {plan_id} was refused when it was made ({found['refusal']}); make a new plan"
        )
    if found["age"] > timedelta(days=max_age_days):
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} is stale: made {found['age'].days} days ago, more than "
            f"max_plan_age_days ({max_age_days}). Make a new plan (dry run) and approve "
            "that one",
        )

    return found


def _check_listings(
    conn: psycopg.Connection,
    ctx: PlanContext,
    plan_id: str,
    pending: list[dict[str, Any]],
    found: dict[str, Any],
    max_delete_fraction: float | None,
) -> tuple[int, float]:
    """Refuse (audited) a plan whose listings changed, that would delete unsafe or no longer published listings,
    or too many of them now; returns (the listings now, the max_delete_fraction that applies)."""
    channel = ctx.channel
    fresh = stage.read_listings(conn, ctx.key, passing_only=False)
    source = stage.input_of(conn, ctx.key)
    total = int(source["rows"] or 0) if source else 0
    now = {
        s: (h, f, r)
        for s, h, f, r in zip(fresh["sku"], fresh["listing_hash"], fresh["fulfillment"], fresh["rejected"], strict=True)
    }
    missing = [r["sku"] for r in pending if r["status"] in TO_DELETE and r["sku"] not in now]
    changed = [r["sku"] for r in pending if r["sku"] in now and now[r["sku"]][0] != r["listing_hash"]]
    if missing or changed:
        problems = []
        if changed:
            problems.append(f"{len(changed)} changed (ASIN, GTIN, fulfilment or title): {_listed(changed)}")
        if missing:
            problems.append(f"{len(missing)} no longer listed: {_listed(missing)}")
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} is stale: the listings changed since it was made — "
            + "; ".join(problems)
            + ". Make a new plan (dry run) and approve that one",
            {"changed": changed, "missing": missing},
        )
    still = [r for r in pending if r["sku"] in now]
    mip_skus = {s for (s,) in conn.execute("SELECT sku FROM mip.listings WHERE channel_id = %s", (channel.id,))}
    unsafe = [
        r["sku"]
        for r in still
        if is_mip_sku(r["sku"]) or r["sku"] in mip_skus or now[r["sku"]][1] != "MFN" or now[r["sku"]][2]
    ]
    if unsafe:
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} would delete MIP-managed, FBA or unreadable listings now: "
            f"{_listed(unsafe)}; make a new plan",
            {"unsafe": unsafe},
        )
    candidates = read_catalog(conn, channel, ctx.catalog_language).candidates
    dropped = [r["sku"] for r in still if r["reference"] not in candidates]
    if dropped:
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} is stale: this channel no longer publishes the catalog "
            f"products of {len(dropped)} planned listings ({_listed(dropped)}): "
            "deleting them would leave those products unsold. Make a new plan",
            {"not_published": dropped},
        )
    if max_delete_fraction is None:
        max_delete_fraction = float(found["max_delete_fraction"])
    fraction = len(still) / total if total else 0.0
    if still and fraction > max_delete_fraction:
        raise _refuse(
            conn,
            ctx,
            plan_id,
            f"plan {plan_id} deletes {len(still):,} of the {total:,} listings now "
            f"({fraction:.1%}), more than max_delete_fraction "
            f"({max_delete_fraction:.0%}); approve with a higher max_delete_fraction if "
            "the plan is right",
        )
    return total, max_delete_fraction


def _record(
    conn: psycopg.Connection,
    ctx: PlanContext,
    plan_id: str,
    rows: list[dict[str, Any]],
    pending: list[dict[str, Any]],
    copies: dict[str, Any],
    total: int,
    max_delete_fraction: float,
    dry_run: bool,
) -> Approval:
    """Audit the check (or the approval, which also marks the plan executing and its rows waiting or not)."""
    channel = ctx.channel
    to_delete = [r for r in pending if r["status"] in TO_DELETE and copies[r["reference"]].live]
    reasons = {r["sku"]: copies[r["reference"]].waiting_because for r in pending if r["status"] in TO_DELETE}
    waiting: dict[str, str] = {sku: reason for sku, reason in reasons.items() if reason}
    verified = sum(1 for r in rows if r["status"] == "verified")
    in_flight = len(pending) - len(to_delete) - len(waiting)
    action = "checked" if dry_run else "approved"
    by_reason = ", ".join(f"{reason} {n}" for reason, n in sorted(Counter(waiting.values()).items()))
    message = (
        f"plan {plan_id} is fresh: {len(to_delete):,} listings to delete, {in_flight:,} deletions to confirm, "
        f"{verified:,} already deleted and verified"
        + (f", {len(waiting):,} waiting for MIP's own listing to be live on Amazon ({by_reason})" if waiting else "")
        + (" (dry run: nothing is deleted)" if dry_run else "")
    )
    audit.record(
        conn,
        plan_id=plan_id,
        channel_id=channel.id,
        action=action,
        actor=ctx.actor,
        dag_id=ctx.dag_id,
        run_id=ctx.run_id,
        message=message,
        details={
            "to_delete": len(to_delete),
            "waiting": dict(Counter(waiting.values())),
            "in_flight": in_flight,
            "verified": verified,
            "listings_total": total,
            "max_delete_fraction": max_delete_fraction,
        },
    )
    if not dry_run:
        _mark_waiting(conn, plan_id, [r["sku"] for r in to_delete if r["status"] == "waiting"], waiting)
        conn.execute(
            "UPDATE mip.migration_plan_headers SET status = 'executing', approved_by = coalesce(approved_by, %s), "
            "approved_at = coalesce(approved_at, now()) WHERE plan_id = %s",
            (ctx.actor, plan_id),
        )
        conn.commit()
    return Approval(plan_id, len(to_delete), in_flight, verified, not dry_run, message, len(waiting))


def _mark_waiting(conn: psycopg.Connection, plan_id: str, now_live: list[str], waiting: dict[str, str]) -> None:
    """Rows whose MIP copy became live are ``planned`` again; rows whose copy is not live ``waiting``."""
    conn.execute(
        "UPDATE mip.migration_plans SET status = 'planned', waiting_because = NULL, updated_at = now() "
        "WHERE plan_id = %s AND sku = ANY(%s) AND status = 'waiting'",
        (plan_id, now_live),
    )
    for reason in set(waiting.values()):
        conn.execute(
            "UPDATE mip.migration_plans SET status = 'waiting', waiting_because = %s, updated_at = now() "
            "WHERE plan_id = %s AND sku = ANY(%s) AND status IN ('planned', 'failed', 'waiting')",
            (reason, plan_id, [sku for sku, why in waiting.items() if why == reason]),
        )
