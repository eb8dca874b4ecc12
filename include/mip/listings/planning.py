"""Change planning: what the channel's listings need, decided by set-based SQL on content hashes.

Per SKU, against ``mip.listings`` (what Amazon accepted last, per channel and SKU):

- selected, priced and passing both gates, and new or with a different ``content_hash``
  -> ``UPDATE`` (the full listing, offer included);
- same content but a different ``offer_hash`` (price, currency, quantity, handling time) -> ``PATCH``
  of ``purchasable_offer`` and ``fulfillment_availability``;
- a MIP SKU (``MIP-`` prefix) in ``mip.listings`` that is not in this run's ``stage_offer`` at all
  (it left the selection, or the catalog) -> ``DELETE``;
- anything else -> nothing. A row a gate rejected this run is left alone: neither updated nor
  deleted; the listing keeps what Amazon has until the data is fixed.

The plan (``mip.stage_plan``) holds each message's JSON payload (without messageId), its size, and
the hashes and offer that ``mip.listings`` takes once Amazon accepts the message
(``apply_accepted``). A second run with nothing changed plans nothing.

Safety: a plan deleting more than ``publish.gates.max_delete_percent`` of the channel's MIP
listings (and more than ``MASS_DELETE_MIN``) is refused unless the run allows it explicitly: an
empty or truncated catalog must not wipe the shop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from mip.listings.feeds import Batch, compact, header, plan_batches
from mip.listings.payloads import ListingContext, delete_message, patch_message, update_message
from mip.listings.sku import SKU_LIKE
from mip.listings.stages import analyze, publish_settings, tune
from mip.store.db import one

if TYPE_CHECKING:
    import psycopg

    from mip.runs import RunKey

MASS_DELETE_MIN = 10
CHUNK = 5_000
PLAN_COLUMNS = (
    "channel_id",
    "run_id",
    "sku",
    "reference",
    "operation",
    "product_type",
    "content_hash",
    "offer_hash",
    "price",
    "quantity",
    "payload",
    "payload_bytes",
)

DECISIONS = """
WITH candidate AS (
    SELECT o.sku, o.reference, o.product_type, o.content_hash,
           md5(ROW(pr.price, pr.currency, o.quantity, %(handling_days)s::int)::text) AS offer_hash,
           pr.price::float8 AS price, o.quantity, o.language, o.item_name, o.brand, o.ean, o.description, o.images,
           o.list_price::float8 AS list_price, o.asin
    FROM mip.stage_offer o
    JOIN mip.stage_price pr ON pr.channel_id = o.channel_id AND pr.run_id = o.run_id AND pr.sku = o.sku
    WHERE o.channel_id = %(channel)s AND o.run_id = %(run)s AND NOT o.rejected AND NOT pr.rejected
)
SELECT CASE WHEN l.sku IS NULL OR l.content_hash IS DISTINCT FROM c.content_hash THEN 'UPDATE' ELSE 'PATCH' END
           AS operation,
       c.*
FROM candidate c
LEFT JOIN mip.listings l ON l.channel_id = %(channel)s AND l.sku = c.sku
WHERE l.sku IS NULL OR l.content_hash IS DISTINCT FROM c.content_hash OR l.offer_hash IS DISTINCT FROM c.offer_hash
UNION ALL
SELECT 'DELETE', l.sku, l.reference, l.product_type, l.content_hash, l.offer_hash, l.price::float8, l.quantity,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM mip.listings l
WHERE l.channel_id = %(channel)s AND l.sku LIKE %(mip_skus)s
  AND NOT EXISTS (SELECT 1 FROM mip.stage_offer o
                  WHERE o.channel_id = %(channel)s AND o.run_id = %(run)s AND o.sku = l.sku)
"""  # no ORDER BY: sorting 200,000 wide rows costs seconds; readers of stage_plan order by sku


class MassDeletionRefused(RuntimeError):
    """The plan would delete too much of the channel's shop; the message says how to allow it."""


@dataclass(frozen=True)
class PlanSummary:
    update: int
    patch: int
    delete: int
    managed_listings: int
    payload_bytes: int

    @property
    def messages(self) -> int:
        return self.update + self.patch + self.delete

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "messages": self.messages}


def _message(ctx: ListingContext, row: dict[str, Any]) -> dict[str, Any]:
    if row["operation"] == "DELETE":
        return delete_message(row["sku"])
    if row["operation"] == "PATCH":
        return patch_message(ctx, row["sku"], row["product_type"], row["price"], row["quantity"])
    return update_message(ctx, row)


def _plan_rows(listing: ListingContext, rows: list[dict[str, Any]], run: RunKey) -> Iterator[tuple]:
    for row in rows:
        payload = compact(_message(listing, row))
        yield (
            run.channel.id,
            run.run_id,
            row["sku"],
            row["reference"],
            row["operation"],
            row["product_type"],
            row["content_hash"],
            row["offer_hash"],
            row["price"],
            row["quantity"],
            payload.decode("utf-8"),
            len(payload),
        )


ALL_OPERATIONS = frozenset({"UPDATE", "PATCH", "DELETE"})
OFFERS_ONLY = frozenset({"PATCH"})  # mip_offers__<channel>: price and stock; new content waits for publishing


def plan_changes(
    conn: psycopg.Connection,
    run: RunKey,
    *,
    allow_mass_delete: bool = False,
    operations: frozenset[str] = ALL_OPERATIONS,
) -> PlanSummary:
    """Write the run's plan to ``mip.stage_plan`` (only ``operations``); raise ``MassDeletionRefused`` after
    writing a mass delete."""
    settings = publish_settings(run.channel)
    listing = ListingContext.for_marketplace(run.channel.marketplace, settings.handling_days)
    tune(conn)
    conn.execute("DELETE FROM mip.stage_plan WHERE channel_id = %(channel)s AND run_id = %(run)s", run.params)
    managed = one(
        conn.execute(
            "SELECT count(*) FROM mip.listings WHERE channel_id = %s AND sku LIKE %s", (run.channel.id, SKU_LIKE)
        )
    )[0]
    counts = {"UPDATE": 0, "PATCH": 0, "DELETE": 0}
    total_bytes = 0
    params = {**run.params, "handling_days": settings.handling_days, "mip_skus": SKU_LIKE}
    with conn.cursor(name="mip_plan", row_factory=dict_row) as decisions:
        decisions.execute(DECISIONS, params)
        while rows := decisions.fetchmany(CHUNK):
            planned = list(_plan_rows(listing, [r for r in rows if r["operation"] in operations], run))
            with (
                conn.cursor() as writer,
                writer.copy(f"COPY mip.stage_plan ({', '.join(PLAN_COLUMNS)}) FROM STDIN") as copy,
            ):
                for values in planned:
                    copy.write_row(values)
            for values in planned:
                counts[values[4]] += 1
                total_bytes += values[11]
    analyze(conn, "mip.stage_plan", ("channel_id", "run_id", "sku", "operation"))
    summary = PlanSummary(counts["UPDATE"], counts["PATCH"], counts["DELETE"], managed, total_bytes)
    limit = float(settings.gates.max_delete_percent)
    if not allow_mass_delete and summary.delete > MASS_DELETE_MIN and summary.delete > managed * limit / 100:
        raise MassDeletionRefused(
            f"channel {run.channel.id}: the plan deletes {summary.delete:,} of {managed:,} MIP listings "
            f"({summary.delete / managed:.0%}), more than publish.gates.max_delete_percent ({limit:g}%). Is the "
            "supplier catalog empty or truncated, or did the selection shrink? Check mip.stage_plan "
            f"(run_id {run.run_id!r}, operation 'DELETE'); if the deletions are intended, trigger the run with "
            "the Param allow_mass_delete = true (or raise max_delete_percent)"
        )
    return summary


def iter_plan_messages(
    conn: psycopg.Connection,
    channel_id: str,
    run_id: str,
    *,
    first_sku: str | None = None,
    last_sku: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The run's planned messages in SKU order (optionally the SKU range of one ``Batch``)."""
    query = "SELECT payload FROM mip.stage_plan WHERE channel_id = %(channel)s AND run_id = %(run)s"
    if first_sku is not None:
        query += " AND sku >= %(first)s"
    if last_sku is not None:
        query += " AND sku <= %(last)s"
    with conn.cursor(name="mip_plan_messages") as cur:
        cur.execute(
            query + " ORDER BY sku",
            {"channel": channel_id, "run": run_id, "first": first_sku, "last": last_sku},
        )
        while rows := cur.fetchmany(CHUNK):
            for (payload,) in rows:
                yield payload if isinstance(payload, dict) else json.loads(payload)


def plan_feed_batches(
    conn: psycopg.Connection,
    channel_id: str,
    run_id: str,
    *,
    seller_id: str,
    issue_locale: str,
    **limits: int,
) -> list[Batch]:
    """The run's feed documents as SKU ranges, from the stored payload sizes: one submission each.

    ``iter_documents(iter_plan_messages(..., first_sku=b.first_sku, last_sku=b.last_sku), ...)``
    then builds exactly batch ``b``'s document (the stored payload is the exact JSON that is sent).
    ``limits``: ``max_messages`` / ``max_bytes`` (tests; default Amazon's).
    """
    with conn.cursor(name="mip_plan_sizes") as cur:
        cur.execute(
            "SELECT sku, payload_bytes FROM mip.stage_plan WHERE channel_id = %s AND run_id = %s ORDER BY sku",
            (channel_id, run_id),
        )
        sizes: Iterable[tuple[str, int]] = [(r[0], r[1]) for r in cur.fetchall()]
    return plan_batches(sizes, header(seller_id, issue_locale), **limits)


def apply_accepted(
    conn: psycopg.Connection,
    run: RunKey,
    *,
    skus: Iterable[str] | None = None,
    status: str = "ACCEPTED",
) -> dict[str, int]:
    """Record in ``mip.listings`` what Amazon accepted of the run's plan (``skus``; None = all).

    UPDATE/PATCH store the planned hashes, price and quantity (so the next run plans nothing for
    them); DELETE removes the listing row. SKUs Amazon rejected keep their old row (an UPDATE that
    never succeeded has no content hash), so the next run plans them again.
    """
    chosen = None if skus is None else list(skus)
    filter_sql = "" if chosen is None else " AND p.sku = ANY(%(skus)s)"
    params = {**run.params, "marketplace": run.channel.marketplace.marketplace_id, "status": status, "skus": chosen}
    upserted = conn.execute(
        "INSERT INTO mip.listings AS l (channel_id, sku, marketplace_id, reference, product_type, content_hash, "
        "offer_hash, price, quantity, status, issues, updated_at) "
        "SELECT p.channel_id, p.sku, %(marketplace)s, p.reference, p.product_type, p.content_hash, p.offer_hash, "
        "p.price, p.quantity, %(status)s, '[]', now() FROM mip.stage_plan p "
        "WHERE p.channel_id = %(channel)s AND p.run_id = %(run)s AND p.operation IN ('UPDATE', 'PATCH')"
        + filter_sql
        + " ON CONFLICT (channel_id, sku) DO UPDATE SET marketplace_id = EXCLUDED.marketplace_id, "
        "reference = EXCLUDED.reference, product_type = EXCLUDED.product_type, "
        "content_hash = EXCLUDED.content_hash, offer_hash = EXCLUDED.offer_hash, price = EXCLUDED.price, "
        "quantity = EXCLUDED.quantity, status = EXCLUDED.status, issues = '[]', updated_at = now()",
        params,
    ).rowcount
    deleted = conn.execute(
        "DELETE FROM mip.listings l USING mip.stage_plan p WHERE p.channel_id = %(channel)s AND p.run_id = %(run)s "
        "AND p.operation = 'DELETE' AND l.channel_id = p.channel_id AND l.sku = p.sku" + filter_sql,
        params,
    ).rowcount
    analyze(conn, "mip.listings", ("channel_id", "sku"))
    return {"upserted": upserted, "deleted": deleted}
