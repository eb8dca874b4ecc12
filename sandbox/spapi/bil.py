"""Build International Listings: offers accepted in a source marketplace are copied into the linked
target marketplaces after the (scaled) BIL delay, prices converted to the target's currency.

Rules: a copy needs the link still enabled and the seller participating in the target when it
is due (disabling the link stops new copies, existing copies stay); deleting the source listing
removes its copies after the same delay; a listing the seller manages directly in the target
(source api/feed/csv) is never overwritten by BIL.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.listings import store
from sandbox.spapi.listings.attributes import for_marketplace
from sandbox.spapi.listings.validation import evaluate
from sandbox.spapi.state import State


def convert_offer(attributes: dict[str, Any], source_currency: str, target_currency: str) -> dict[str, Any]:
    result = copy.deepcopy(attributes)
    for entry in result.get("purchasable_offer", []):
        entry["currency"] = target_currency
        for key in ("our_price", "minimum_seller_allowed_price", "maximum_seller_allowed_price"):
            for price in entry.get(key, []) or []:
                for schedule in price.get("schedule", []) or []:
                    for field in ("value_with_tax", "value"):
                        if field in schedule:
                            converted = marketplaces.convert(
                                Decimal(str(schedule[field])), source_currency, target_currency
                            )
                            schedule[field] = float(converted)
    for entry in result.get("list_price", []):
        entry["currency"] = target_currency
        for field in ("value_with_tax", "value"):
            if field in entry:
                entry[field] = float(marketplaces.convert(Decimal(str(entry[field])), source_currency, target_currency))
    return result


def apply_due(state: State) -> int:
    now = state.clock.now()
    if state.db.one("SELECT 1 FROM bil_pending WHERE due_at <= ? LIMIT 1", (now,)) is None:
        return 0
    done = 0
    while True:  # in chunks, so API writes never wait long for the write lock
        with state.db.tx() as conn:
            due = conn.execute(
                "SELECT * FROM bil_pending WHERE due_at <= ? ORDER BY due_at, id LIMIT 500", (now,)
            ).fetchall()
            for job in due:
                conn.execute("DELETE FROM bil_pending WHERE id = ?", (job["id"],))
                done += _apply(state, conn, job, now)
        if len(due) < 500:
            return done


def _apply(state: State, conn, job, now: float) -> int:
    seller_id, source_mp, target_mp, sku = job["seller_id"], job["source_mp"], job["target_mp"], job["sku"]
    target = store.load(conn, seller_id, target_mp, sku)
    if job["action"] == "delete":
        if target is not None and target["source"] == "bil":
            conn.execute(
                "DELETE FROM listings WHERE seller_id = ? AND marketplace_id = ? AND sku = ?",
                (seller_id, target_mp, sku),
            )
            return 1
        return 0
    link = conn.execute(
        "SELECT enabled FROM bil_links WHERE seller_id = ? AND source_mp = ? AND target_mp = ?",
        (seller_id, source_mp, target_mp),
    ).fetchone()
    joined = conn.execute(
        "SELECT participating FROM participations WHERE seller_id = ? AND marketplace_id = ?", (seller_id, target_mp)
    ).fetchone()
    source = store.load(conn, seller_id, source_mp, sku)
    if not link or not link["enabled"] or not joined or not joined["participating"] or source is None:
        return 0
    if source["price"] is None or (target is not None and target["source"] != "bil"):
        return 0
    source_currency = marketplaces.BY_ID[source_mp].currency
    target_currency = marketplaces.BY_ID[target_mp].currency
    attributes = convert_offer(
        for_marketplace(json.loads(source["attributes"]), source_mp, target_mp), source_currency, target_currency
    )
    region = marketplaces.BY_ID[target_mp].region
    ev = evaluate(
        state, conn, region, target_mp, source["product_type"], source["requirements"], attributes, source["asin"]
    )
    if not ev.ok:
        return 0
    store.save(
        conn,
        seller_id,
        target_mp,
        sku,
        source["product_type"],
        source["requirements"],
        attributes,
        ev,
        ev.asin or source["asin"],
        "bil",
        target["created_at"] if target is not None else now,
        now,
    )
    return 1
