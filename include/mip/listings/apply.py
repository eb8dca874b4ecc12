"""Amazon's verdict on a run's feed messages, recorded in ``mip.listings``.

Accepted messages store the planned hashes (``planning.apply_accepted``); rejected ones keep the
listing's last accepted hashes (so the next run plans them again) and record Amazon's issues with
status ``INVALID`` — a SKU Amazon never accepted gets a row without hashes. The acceptance rate of a
run is computed over all its submissions, with the most frequent issue codes for the failure message.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from mip.listings.planning import apply_accepted
from mip.listings.submission import Outcome

if TYPE_CHECKING:
    from mip.runs import RunKey


def record_rejected(
    conn: psycopg.Connection, run: RunKey, rejected: dict[str, list[dict[str, Any]]], status: str = "INVALID"
) -> int:
    if not rejected:
        return 0
    rows = [
        (run.channel.id, sku, run.channel.marketplace.marketplace_id, status, json.dumps(issues))
        for sku, issues in rejected.items()
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mip.listings AS l (channel_id, sku, marketplace_id, status, issues, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (channel_id, sku) DO UPDATE"
            " SET status = EXCLUDED.status, issues = EXCLUDED.issues, updated_at = now()",
            rows,
        )
    return len(rows)


def apply_outcome(conn: psycopg.Connection, run: RunKey, outcome: Outcome) -> dict[str, Any]:
    accepted = apply_accepted(conn, run, skus=outcome.accepted)
    if outcome.warnings:
        conn.execute(
            "UPDATE mip.listings l SET issues = w.issues::jsonb FROM"
            " (SELECT * FROM jsonb_each_text(%s::jsonb)) AS w(sku, issues)"
            " WHERE l.channel_id = %s AND l.sku = w.sku",
            (json.dumps(outcome.warnings), run.channel.id),
        )
    rejected = record_rejected(
        conn,
        run,
        outcome.rejected,
        "INVALID" if outcome.processing_status == "DONE" else f"FEED_{outcome.processing_status}",
    )
    codes = outcome.issue_codes()
    conn.execute(
        "UPDATE mip.feed_submissions SET status = 'applied', accepted_count = %s, rejected_count = %s,"
        " issue_codes = %s WHERE id = %s",
        (len(outcome.accepted), len(outcome.rejected), json.dumps(dict(codes)), outcome.submission_id),
    )
    return {
        "submission_id": outcome.submission_id,
        "status": outcome.processing_status,
        "accepted": len(outcome.accepted),
        "rejected": rejected,
        "upserted": accepted["upserted"],
        "deleted": accepted["deleted"],
        "fatal_reason": outcome.fatal_reason,
    }


@dataclass(frozen=True)
class Acceptance:
    messages: int
    accepted: int
    codes: Counter
    fatal: list[str]

    @property
    def percent(self) -> float:
        return 100.0 * self.accepted / self.messages if self.messages else 100.0

    def message(self, minimum: float) -> str:
        top = ", ".join(f"{code} x{count}" for code, count in self.codes.most_common(5)) or "none"
        text = (
            f"Amazon accepted {self.accepted:,} of {self.messages:,} messages ({self.percent:.1f}%, minimum "
            f"{minimum:g}%); top issue codes: {top}"
        )
        if self.fatal:
            text += f"; feeds that ended FATAL: {'; '.join(self.fatal)} (the next run sends them again)"
        return text


def acceptance(conn: psycopg.Connection, dag_id: str, run_id: str) -> Acceptance:
    rows = conn.execute(
        "SELECT message_count, coalesce(accepted_count, 0), coalesce(issue_codes, '{}'), processing_status, feed_id,"
        " report FROM mip.feed_submissions WHERE dag_id = %s AND run_id = %s",
        (dag_id, run_id),
    ).fetchall()
    codes: Counter = Counter()
    fatal = []
    for _, _, issue_codes, status, feed_id, report in rows:
        codes.update(issue_codes)
        if status != "DONE":
            reason = next(
                (f"{i.get('code')}: {i.get('message')}" for i in (report or {}).get("issues", []) if not i.get("sku")),
                status,
            )
            fatal.append(f"feed {feed_id} ({reason})")
    return Acceptance(sum(r[0] for r in rows), sum(r[1] for r in rows), codes, fatal)
