"""Listing submissions (put, patch, delete) applied to the state, and listings rendered as SP-API items.

Used by the Listings Items API, by JSON_LISTINGS_FEED processing and by seeding, so a feed message
and an API call with the same content have the same outcome.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.spapi import marketplaces
from sandbox.spapi.clock import iso
from sandbox.spapi.listings import asins
from sandbox.spapi.listings.attributes import AttributeError_, apply_patches
from sandbox.spapi.listings.validation import Evaluation, evaluate, issue
from sandbox.spapi.state import State

COLUMNS = (
    "seller_id",
    "marketplace_id",
    "sku",
    "product_type",
    "requirements",
    "attributes",
    "issues",
    "asin",
    "item_name",
    "brand",
    "gtin",
    "gtin_type",
    "condition_type",
    "price",
    "currency",
    "quantity",
    "fulfillment_channel",
    "buyable",
    "image",
    "description",
    "source",
    "created_at",
    "updated_at",
)
_UPSERT = (
    f"INSERT INTO listings ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (seller_id, marketplace_id, sku) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("seller_id", "marketplace_id", "sku", "created_at"))
)
INCLUDED_DATA = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)


@dataclass
class Outcome:
    sku: str
    status: str  # ACCEPTED | INVALID | VALID
    submission_id: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, str]] = field(default_factory=list)

    def response(self, included: Iterable[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"sku": self.sku, "status": self.status, "submissionId": self.submission_id}
        included = set(included)
        if "issues" in included:
            body["issues"] = self.issues
        if "identifiers" in included:
            body["identifiers"] = self.identifiers
        return body


def load(conn: sqlite3.Connection, seller_id: str, marketplace_id: str, sku: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM listings WHERE seller_id = ? AND marketplace_id = ? AND sku = ?",
        (seller_id, marketplace_id, sku),
    ).fetchone()


AttributeBuilder = Callable[[sqlite3.Row | None], dict[str, Any]]


def submit(
    state: State,
    conn: sqlite3.Connection,
    *,
    seller_id: str,
    region: str,
    marketplace_ids: list[str],
    sku: str,
    product_type: str,
    requirements: str | None,
    build: AttributeBuilder,
    preview: bool,
    source: str,
) -> Outcome:
    """Validate a submission in every marketplace and, unless previewing, store it (all or nothing)."""
    outcome = Outcome(sku, "INVALID", str(uuid.uuid4()))
    evaluations: list[tuple[Evaluation, dict[str, Any], sqlite3.Row | None, str]] = []
    for marketplace_id in marketplace_ids:
        existing = load(conn, seller_id, marketplace_id, sku)
        wanted = requirements or (existing["requirements"] if existing else "LISTING")
        try:
            attributes = build(existing)
        except AttributeError_ as exc:
            outcome.issues.append(issue("90000900", str(exc), attributes=(exc.name,), marketplace_id=marketplace_id))
            continue
        ev = evaluate(
            state,
            conn,
            region,
            marketplace_id,
            product_type,
            wanted,
            attributes,
            existing["asin"] if existing else None,
        )
        outcome.issues.extend(ev.issues)
        evaluations.append((ev, attributes, existing, wanted))
    if any(i["severity"] == "ERROR" for i in outcome.issues):
        return outcome
    if preview:
        outcome.status = "VALID"
        outcome.identifiers = [
            {"marketplaceId": ev.marketplace_id, "asin": ev.asin} for ev, *_ in evaluations if ev.asin
        ]
        return outcome
    now = state.clock.now()
    for ev, attributes, existing, wanted in evaluations:
        asin = ev.asin
        if ev.new_catalog_item is not None:
            key, brand, name, ptype = ev.new_catalog_item
            known = asins.by_gtin(conn, region, key) if key else None
            asin = known["asin"] if known else asins.create(state, conn, region, key, brand, name, ptype)
        save(
            conn,
            seller_id,
            ev.marketplace_id,
            sku,
            product_type,
            wanted,
            attributes,
            ev,
            asin,
            source,
            existing["created_at"] if existing else now,
            now,
        )
        outcome.identifiers.append({"marketplaceId": ev.marketplace_id, "asin": asin})
        if source != "bil":
            schedule_bil(state, conn, seller_id, ev.marketplace_id, sku, "copy")
    outcome.status = "ACCEPTED"
    return outcome


def save(
    conn: sqlite3.Connection,
    seller_id: str,
    marketplace_id: str,
    sku: str,
    product_type: str,
    requirements: str,
    attributes: dict[str, Any],
    ev: Evaluation,
    asin: str | None,
    source: str,
    created_at: float,
    updated_at: float,
) -> None:
    fields = ev.fields
    if asin is None:
        fields = {**fields, "buyable": 0}
    conn.execute(
        _UPSERT,
        (
            seller_id,
            marketplace_id,
            sku,
            product_type,
            requirements,
            json.dumps(attributes, separators=(",", ":"), ensure_ascii=False),
            json.dumps(ev.issues, separators=(",", ":"), ensure_ascii=False),
            asin,
            fields["item_name"],
            fields["brand"],
            fields["gtin"],
            fields["gtin_type"],
            fields["condition_type"],
            fields["price"],
            fields["currency"],
            fields["quantity"],
            fields["fulfillment_channel"],
            fields["buyable"],
            fields["image"],
            fields["description"],
            source,
            created_at,
            updated_at,
        ),
    )


def put(state, conn, *, seller_id, region, marketplace_ids, sku, body, preview, source) -> Outcome:
    attributes = body.get("attributes") or {}
    return submit(
        state,
        conn,
        seller_id=seller_id,
        region=region,
        marketplace_ids=marketplace_ids,
        sku=sku,
        product_type=body["productType"],
        requirements=body.get("requirements") or "LISTING",
        build=lambda _existing: attributes,
        preview=preview,
        source=source,
    )


def patch(state, conn, *, seller_id, region, marketplace_ids, sku, product_type, patches, preview, source) -> Outcome:
    def build(existing: sqlite3.Row | None) -> dict[str, Any]:
        current = json.loads(existing["attributes"]) if existing else {}
        return apply_patches(current, patches)

    return submit(
        state,
        conn,
        seller_id=seller_id,
        region=region,
        marketplace_ids=marketplace_ids,
        sku=sku,
        product_type=product_type,
        requirements=None,
        build=build,
        preview=preview,
        source=source,
    )


def delete(state: State, conn: sqlite3.Connection, *, seller_id: str, marketplace_ids: list[str], sku: str) -> Outcome:
    for marketplace_id in marketplace_ids:
        existing = load(conn, seller_id, marketplace_id, sku)
        conn.execute(
            "DELETE FROM listings WHERE seller_id = ? AND marketplace_id = ? AND sku = ?",
            (seller_id, marketplace_id, sku),
        )
        if existing is not None and existing["source"] != "bil":
            schedule_bil(state, conn, seller_id, marketplace_id, sku, "delete")
    return Outcome(sku, "ACCEPTED", str(uuid.uuid4()))


def schedule_bil(state: State, conn: sqlite3.Connection, seller_id: str, source_mp: str, sku: str, action: str) -> None:
    """Queue Build International Listings copies (or removals) into the enabled target marketplaces."""
    targets = conn.execute(
        "SELECT target_mp FROM bil_links WHERE seller_id = ? AND source_mp = ? AND enabled = 1", (seller_id, source_mp)
    ).fetchall()
    if not targets:
        return
    due = state.clock.now() + state.amazon_delay(state.settings.bil_delay_minutes * 60)
    conn.executemany(
        "INSERT INTO bil_pending (seller_id, source_mp, target_mp, sku, action, due_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(seller_id, source_mp, t["target_mp"], sku, action, due) for t in targets],
    )


# --- rendering ----------------------------------------------------------------------------------


def status_of(row: sqlite3.Row) -> list[str]:
    if row["asin"] is None:
        return []
    return ["BUYABLE", "DISCOVERABLE"] if row["buyable"] else ["DISCOVERABLE"]


def summary(row: sqlite3.Row) -> dict[str, Any]:
    found: dict[str, Any] = {"marketplaceId": row["marketplace_id"]}
    if row["asin"]:
        found["asin"] = row["asin"]
    found["productType"] = row["product_type"]
    if row["condition_type"]:
        found["conditionType"] = row["condition_type"]
    found["status"] = status_of(row)
    if row["item_name"]:
        found["itemName"] = str(row["item_name"])
    found["createdDate"] = iso(row["created_at"])
    found["lastUpdatedDate"] = iso(row["updated_at"])
    if row["image"]:
        found["mainImage"] = {"link": str(row["image"]), "height": 1000, "width": 1000}
    return found


def render_item(rows: list[sqlite3.Row], included: Iterable[str]) -> dict[str, Any]:
    """An SP-API ``Item`` for one SKU from its rows in one or more marketplaces."""
    included = set(included)
    item: dict[str, Any] = {"sku": rows[0]["sku"]}
    if "summaries" in included:
        item["summaries"] = [summary(r) for r in rows]
    if "attributes" in included:
        merged: dict[str, list] = {}
        for r in rows:
            for name, values in json.loads(r["attributes"]).items():
                for value in values:
                    if value not in merged.setdefault(name, []):
                        merged[name].append(value)
        item["attributes"] = merged
    if "issues" in included:
        item["issues"] = [i for r in rows for i in json.loads(r["issues"])]
    if "offers" in included:
        item["offers"] = [
            {
                "marketplaceId": r["marketplace_id"],
                "offerType": "B2C",
                "price": {"currencyCode": r["currency"], "amount": r["price"]},
                "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
            }
            for r in rows
            if r["price"] is not None
        ]
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [
            {
                "fulfillmentChannelCode": r["fulfillment_channel"],
                **({"quantity": r["quantity"]} if r["quantity"] is not None else {}),
            }
            for r in rows
            if r["fulfillment_channel"]
        ]
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": r["marketplace_id"], "relationships": []} for r in rows]
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": r["marketplace_id"], "productType": r["product_type"]} for r in rows]
    return item


def truth_row(row: sqlite3.Row, with_attributes: bool = False) -> dict[str, Any]:
    """A listing as ``GET /_sandbox/listings`` reports it."""
    market = marketplaces.BY_ID[row["marketplace_id"]]
    found = {
        "seller_id": row["seller_id"],
        "marketplace_id": row["marketplace_id"],
        "country": market.country,
        "sku": row["sku"],
        "asin": row["asin"],
        "product_type": row["product_type"],
        "status": status_of(row),
        "item_name": row["item_name"],
        "brand": row["brand"],
        "gtin": row["gtin"],
        "gtin_type": row["gtin_type"],
        "condition_type": row["condition_type"],
        "price": row["price"],
        "currency": row["currency"],
        "quantity": row["quantity"],
        "fulfillment_channel": "AFN" if (row["fulfillment_channel"] or "").startswith("AMAZON") else "MFN",
        "fulfillment_channel_code": row["fulfillment_channel"],
        "source": row["source"],
        "issues": json.loads(row["issues"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if with_attributes:
        found["attributes"] = json.loads(row["attributes"])
    return found
