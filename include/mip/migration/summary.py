"""A plan's readable summary: counts by reason, what waits and why, what was left out and why, examples,
and the next step as the complete conf of the approving run (copy it as it is).

The same summary is printed in the planning task's log and stored with the plan
(``mip.migration_plan_headers.summary`` as JSON, ``summary_text`` as text).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from mip.migration.live import WAITING_REASONS
from mip.migration.match import EXCLUSIONS, REASONS

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES_PER_REASON = 3


def _example(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    listing, catalog = evidence["listing"], evidence.get("catalog") or {}
    parts = [f"{row['sku']} -> {row['reference'] or '?'}"]
    gtin = evidence.get("gtin")
    if gtin and not gtin["same_product_number"]:
        parts.append(f"EAN {gtin['listing']} vs catalog {gtin['catalog']}")
    elif gtin:
        same = (
            ""
            if gtin["listing_form"] == gtin["catalog_form"]
            else f" ({gtin['listing_form']} vs {gtin['catalog_form']})"
        )
        parts.append(f"GTIN {gtin['listing']}{same}")
    if "title" in evidence:
        parts.append(f"title {listing['item_name']!r} = {catalog.get('title')!r}")
    if "sku_reference" in evidence:
        parts.append(f"reference {evidence['sku_reference']} in the SKU")
    if "asin" in evidence:
        parts.append(f"ASIN {evidence['asin']}")
    if row["status"] == "excluded" and "candidates" in evidence:
        parts.append(f"candidates {evidence['candidates']}")
    return "; ".join(parts)


def build(
    *,
    plan_id: str,
    channel_id: str,
    marketplace: str,
    source: dict[str, Any],
    rows: pd.DataFrame,
    listings_total: int,
    mip_managed: int,
    unmatched: int,
    max_delete_fraction: float,
    status: str,
    refusal: str | None,
) -> dict[str, Any]:
    records = rows.to_dict("records")
    planned = [r for r in records if r["status"] in ("planned", "waiting")]
    waiting = Counter(r["waiting_because"] for r in planned if r["status"] == "waiting")
    excluded = [r for r in records if r["status"] == "excluded"]
    fraction = len(planned) / listings_total if listings_total else 0.0
    examples: dict[str, list[str]] = {}
    for row in planned:
        bucket = examples.setdefault(row["reason"], [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(_example(row))
    excluded_examples: dict[str, list[str]] = {}
    for row in excluded:
        bucket = excluded_examples.setdefault(row["excluded_because"], [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append(_example(row))
    return {
        "plan_id": plan_id,
        "channel": channel_id,
        "marketplace": marketplace,
        "status": status,
        "refusal": refusal,
        "source": source,
        "listings_total": listings_total,
        "mip_managed": mip_managed,
        "unmatched": unmatched,
        "planned": len(planned),
        "fraction": round(fraction, 4),
        "max_delete_fraction": max_delete_fraction,
        "by_reason": dict(sorted(Counter(r["reason"] for r in planned).items())),
        "excluded": dict(sorted(Counter(r["excluded_because"] for r in excluded).items())),
        "waiting": dict(sorted(waiting.items())),
        "waiting_total": sum(waiting.values()),
        "examples": dict(sorted(examples.items())),
        "excluded_examples": dict(sorted(excluded_examples.items())),
    }


def text(summary: dict[str, Any]) -> str:
    source = summary["source"]
    origin = (
        f"the listings report {source.get('report_id')}"
        if source.get("source") == "report"
        else f"the file {source.get('path')}"
    )
    lines = [
        f"Migration plan {summary['plan_id']} — channel {summary['channel']} ({summary['marketplace']}), from "
        f"{origin}: {summary['listings_total']:,} listings ({source.get('rejected', 0):,} rejected by the gate or "
        f"unreadable, {summary['mip_managed']:,} managed by MIP, {summary['unmatched']:,} without a catalog match).",
        f"Planned for deletion: {summary['planned']:,} listings = {summary['fraction']:.1%} of the marketplace's "
        f"listings (limit max_delete_fraction {summary['max_delete_fraction']:.0%}).",
    ]
    for reason, count in summary["by_reason"].items():
        lines.append(f"  {reason:<14} {count:>6,}  {REASONS[reason]}")
    if summary["waiting_total"]:
        lines.append(
            f"Waiting: {summary['waiting_total']:,} of them are deleted only once MIP's own listing of the product is "
            "live on Amazon (buyers keep an offer); approving the plan deletes the others and, again later, these:"
        )
        for reason, count in summary["waiting"].items():
            lines.append(f"  {reason:<16} {count:>6,}  {WAITING_REASONS[reason]}")
    lines.append("Matched but never deleted:" if summary["excluded"] else "Matched but never deleted: none.")
    for because, count in summary["excluded"].items():
        lines.append(f"  {because:<20} {count:>6,}  {EXCLUSIONS[because]}")
    if summary["examples"]:
        lines.append("Examples:")
        for reason, examples in summary["examples"].items():
            lines.extend(f"  {reason}: {example}" for example in examples)
    for because, examples in summary["excluded_examples"].items():
        lines.extend(f"  excluded ({because}): {example}" for example in examples)
    if summary["status"] == "refused":
        lines.append(f"REFUSED: {summary['refusal']}")
    else:
        lines.append(
            f"Next: read the plan (python -m mip.migration show {summary['plan_id']}, or SELECT * FROM "
            f"mip.migration_plans WHERE plan_id = '{summary['plan_id']}'), then trigger mip_migrate_csv__"
            f"{summary['channel']} with this conf to delete them: {approval_conf(summary)}"
        )
    return "\n".join(lines)


def approval_conf(summary: dict[str, Any]) -> str:
    """The complete conf of the run approving the plan: its id, dry_run false, its own source and threshold."""
    source = summary["source"]
    conf = {
        "approve_plan_id": summary["plan_id"],
        "dry_run": False,
        "source": source.get("path") if source.get("source") == "file" else "report",
        "max_delete_fraction": summary["max_delete_fraction"],
    }
    return json.dumps(conf)
