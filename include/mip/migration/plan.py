"""Planning: the run's listings matched against the catalog -> a plan in ``mip``, gated, summarised.

``build_plan`` writes one ``mip.migration_plan_headers`` row and one ``mip.migration_plans`` row per
matched listing (``planned``; ``waiting`` with the reason while MIP's own listing of the product is not
live on Amazon, see ``mip.migration.live``; or ``excluded`` with the cause), with the SKU, the catalog
product, the reason and the evidence (the matching values on both sides, and MIP's copy). The plan
id is derived from the Airflow run, so a retried planning task rewrites the same plan. Gates on the plan:

- never a MIP-managed SKU and never an FBA listing among the planned rows (matching excludes them;
  this is checked again on what was written, and a violation stops everything: it would be a bug);
- at most ``max_delete_fraction`` of the marketplace's listings: a bigger plan is stored with status
  ``refused`` (readable, never executable).

Nothing is deleted here: every run plans first, deletion needs a later run approving the plan.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mip.listings.sku import is_mip_sku
from mip.migration import audit, stage
from mip.migration import summary as summaries
from mip.migration.catalog import read_catalog
from mip.migration.match import match
from mip.runs import RunKey
from mip.settings.base import DEFAULT_LANGUAGE
from mip.store.bulk import copy_rows
from mip.store.db import one

if TYPE_CHECKING:
    import psycopg

    from mip.amazon.gateway import SpApiGateway
    from mip.config import Account, Channel

PLAN_COLUMNS = (
    "plan_id",
    "channel_id",
    "sku",
    "line",
    "reference",
    "reason",
    "evidence",
    "status",
    "excluded_because",
    "fulfillment",
    "listing_hash",
    "waiting_because",
)
DELETIONS = ("planned", "waiting")  # the rows a plan deletes: now, or once MIP's copy is live


class EmptyCatalog(RuntimeError):
    """No supplier product is loaded: nothing could match, a plan would be empty and misleading."""


class PlanSafetyError(RuntimeError):
    """A planned row is a MIP SKU or an FBA listing: matching let through what it must never plan."""


@dataclass(frozen=True)
class PlanContext:
    channel: Channel
    account: Account
    run_id: str
    dag_id: str | None
    actor: str
    catalog_language: str = DEFAULT_LANGUAGE

    @property
    def key(self) -> RunKey:
        return RunKey(self.channel, self.run_id, self.dag_id)


@dataclass(frozen=True)
class PlanOutcome:
    plan_id: str
    status: str
    planned: int
    summary: dict[str, Any]
    text: str
    refusal: str | None


def plan_id_for(channel_id: str, run_id: str) -> str:
    """``<channel>-<8 hex>``, stable for a run (a retried planning task rewrites the same plan)."""
    return f"{channel_id}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def fingerprint(hashes: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()


def build_plan(
    conn: psycopg.Connection,
    ctx: PlanContext,
    *,
    max_delete_fraction: float,
    gateway: SpApiGateway | None = None,
) -> PlanOutcome:
    """Match the run's listings, check MIP's copies on Amazon (``gateway``: for a file source), write the plan."""
    channel = ctx.channel
    plan_id = plan_id_for(channel.id, ctx.run_id)
    source = stage.input_of(conn, ctx.key)
    if source is None or source["staged_at"] is None:
        raise RuntimeError(f"run {ctx.run_id} of channel {channel.id} has no staged listings: run stage_listings")
    listings = stage.read_listings(conn, ctx.key)
    total = int(source["rows"] or 0)
    catalog = read_catalog(conn, channel, ctx.catalog_language)
    if catalog.products.empty:
        raise EmptyCatalog(
            "mip.supplier_products holds no product: load the supplier catalog first (run mip_catalog_sync), then "
            "plan again"
        )
    result = match(listings, catalog)
    rows = _wait_for_mip_copies(conn, ctx, result.rows, gateway)
    planned = rows[rows["status"].isin(DELETIONS)]
    _check_safety(planned, set(catalog.mip_listings["sku"]) if len(catalog.mip_listings) else set())

    refusal = _refusal(len(planned), total, channel.id, max_delete_fraction)
    status = "refused" if refusal else "ready"
    summary = summaries.build(
        plan_id=plan_id,
        channel_id=channel.id,
        marketplace=f"{channel.country} {channel.marketplace.marketplace_id}",
        source=_origin(conn, ctx, source, total),
        rows=rows,
        listings_total=total,
        mip_managed=result.mip_managed,
        unmatched=result.unmatched,
        max_delete_fraction=max_delete_fraction,
        status=status,
        refusal=refusal,
    )
    text = summaries.text(summary)
    _write(
        conn,
        ctx,
        plan_id,
        rows,
        summary,
        text,
        status=status,
        refusal=refusal,
        total=total,
        max_delete_fraction=max_delete_fraction,
        source=source,
    )
    audit.record(
        conn,
        plan_id=plan_id,
        channel_id=channel.id,
        action="planned",
        actor=ctx.actor,
        dag_id=ctx.dag_id,
        run_id=ctx.run_id,
        message=refusal
        or f"{len(planned)} listings planned for deletion ({summary['waiting_total']} waiting for MIP's copy)",
        details={"planned": len(planned), **{k: summary[k] for k in ("by_reason", "waiting", "excluded")}},
    )
    return PlanOutcome(plan_id, status, len(planned), summary, text, refusal)


def _refusal(planned: int, total: int, channel_id: str, max_delete_fraction: float) -> str | None:
    """Why the plan is refused (it deletes more than ``max_delete_fraction`` of the listings), or None."""
    fraction = planned / total if total else 0.0
    if not planned or fraction <= max_delete_fraction:
        return None
    return (
        f"the plan deletes {planned:,} of the {total:,} listings of channel {channel_id} "
        f"({fraction:.1%}), more than max_delete_fraction ({max_delete_fraction:.0%}). Read the plan; if it is "
        "right, plan again with a higher max_delete_fraction (its approval uses the same value)"
    )


def _origin(conn: psycopg.Connection, ctx: PlanContext, source: dict[str, Any], total: int) -> dict[str, Any]:
    """Where the plan's listings came from, for its summary: the source, its rows and the rows rejected."""
    rejected = int(
        one(
            conn.execute(
                "SELECT count(*) FROM mip.migration_listings WHERE channel_id = %(channel)s AND run_id = %(run)s "
                "AND rejected",
                ctx.key.params,
            )
        )[0]
    ) + int(source["rejected"] or 0)
    return {
        "source": source["source"],
        "report_id": source["report_id"],
        "path": source["path"],
        "encoding": source["encoding"],
        "rows": total,
        "rejected": rejected,
    }


def _wait_for_mip_copies(conn: psycopg.Connection, ctx: PlanContext, rows, gateway: SpApiGateway | None):
    """Planned rows whose product has no live MIP listing on Amazon become ``waiting`` (with the reason)."""
    from mip.migration.live import mip_copies

    rows = rows.assign(waiting_because=None)
    planned = rows["status"] == "planned"
    if not planned.any():
        return rows
    copies = mip_copies(
        conn,
        ctx.key,
        sorted(set(rows.loc[planned, "reference"])),
        channel=ctx.channel,
        account=ctx.account,
        gateway=gateway,
    )
    for index in rows.index[planned]:
        state = copies[rows.at[index, "reference"]]
        rows.at[index, "evidence"]["mip_copy"] = state.as_json()
        if not state.live:
            rows.at[index, "status"] = "waiting"
            rows.at[index, "waiting_because"] = state.waiting_because
    return rows


def _check_safety(planned, mip_skus: set[str]) -> None:
    managed = [s for s in planned["sku"] if is_mip_sku(s) or s in mip_skus]
    fba = planned.loc[planned["fulfillment"] != "MFN", "sku"].tolist()
    if managed or fba:
        raise PlanSafetyError(
            f"refusing to write a plan that deletes MIP-managed SKUs {managed[:5]} or listings not fulfilled by the "
            f"merchant {fba[:5]}: this is a bug in mip.migration.match, report it with the run's log"
        )


def _write(
    conn: psycopg.Connection,
    ctx: PlanContext,
    plan_id: str,
    rows,
    summary: dict[str, Any],
    text: str,
    *,
    status: str,
    refusal: str | None,
    total: int,
    max_delete_fraction: float,
    source: dict[str, Any],
) -> None:
    channel = ctx.channel
    planned_hashes = rows.loc[rows["status"].isin(DELETIONS), "listing_hash"].tolist()
    with conn.transaction():
        conn.execute("DELETE FROM mip.migration_plans WHERE plan_id = %s", (plan_id,))
        conn.execute("DELETE FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,))
        conn.execute(
            "INSERT INTO mip.migration_plan_headers (plan_id, channel_id, account_id, seller_id, marketplace_id, "
            "dag_id, run_id, source, source_path, status, refusal, max_delete_fraction, listings_total, planned, "
            "waiting, excluded, fingerprint, summary, summary_text, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                plan_id,
                channel.id,
                ctx.account.id,
                ctx.account.seller_id,
                channel.marketplace.marketplace_id,
                ctx.dag_id,
                ctx.run_id,
                source["source"],
                source["path"],
                status,
                refusal,
                max_delete_fraction,
                total,
                len(planned_hashes),
                int((rows["status"] == "waiting").sum()),
                int((rows["status"] == "excluded").sum()),
                fingerprint(planned_hashes),
                json.dumps(summary, default=str),
                text,
                ctx.actor,
            ),
        )
        if len(rows):
            copy_rows(
                conn,
                "mip.migration_plans",
                PLAN_COLUMNS,
                [
                    (
                        plan_id,
                        channel.id,
                        r["sku"],
                        r["line"],
                        _text(r["reference"]),
                        r["reason"],
                        json.dumps(r["evidence"], ensure_ascii=False, default=str),
                        r["status"],
                        _text(r["excluded_because"]),
                        _text(r["fulfillment"]),
                        r["listing_hash"],
                        _text(r["waiting_because"]),
                    )
                    for r in rows.to_dict("records")
                ],
            )
    conn.commit()


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)
