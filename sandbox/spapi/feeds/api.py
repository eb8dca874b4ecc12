"""Feeds API 2021-06-30: createFeedDocument, createFeed, getFeed, getFeeds, getFeedDocument."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sandbox.spapi import documents
from sandbox.spapi.accounts import require_marketplaces
from sandbox.spapi.call import Call, decode_token, encode_token
from sandbox.spapi.clock import iso_ms, parse_iso
from sandbox.spapi.errors import ApiError, invalid_input

SUPPORTED_FEED_TYPES = ("JSON_LISTINGS_FEED",)
QUEUE_SECONDS = 30.0  # Amazon time a feed waits IN_QUEUE


def create_feed_document(call: Call) -> tuple[int, Any]:
    content_type = call.body.get("contentType", "")
    if not content_type.strip():
        raise invalid_input("contentType is required.")
    doc_id = documents.new_document_id(call.state, call.region)
    documents.store(call.state, doc_id, "feed_input", call.seller_id, content_type)
    return 201, {"feedDocumentId": doc_id, "url": documents.signed_url(call.state, doc_id, "upload")}


def create_feed(call: Call) -> tuple[int, Any]:
    body = call.body
    feed_type = body["feedType"]
    if feed_type not in SUPPORTED_FEED_TYPES:
        raise invalid_input(
            f"Invalid feedType {feed_type}: the sandbox processes {', '.join(SUPPORTED_FEED_TYPES)} only."
        )
    marketplace_ids = require_marketplaces(call.state, call.seller_id, body["marketplaceIds"])
    doc = documents.load(call.state, body["inputFeedDocumentId"])
    if doc is None or doc["seller_id"] != call.seller_id or doc["kind"] != "feed_input":
        raise invalid_input(f"Invalid inputFeedDocumentId {body['inputFeedDocumentId']}: no such feed document.")
    state = call.state
    faults = state.faults.current
    now = state.clock.now()
    with state.db.tx() as conn:
        # Feed ids are unique per sandbox state (a random first value), like Amazon's across time: a
        # database that saw the feeds of another sandbox never meets the same id twice.
        feed_id = str(50_000_000_000 + state.db.next_value("feeds", start=secrets.randbelow(10**8)) * 17)
        conn.execute(
            "INSERT INTO feeds (feed_id, seller_id, feed_type, marketplace_ids, input_doc_id, created_at, status, "
            "start_at, forced_fatal, slow_factor, partial_fraction) VALUES (?, ?, ?, ?, ?, ?, 'IN_QUEUE', ?, ?, ?, ?)",
            (
                feed_id,
                call.seller_id,
                feed_type,
                json.dumps(marketplace_ids),
                doc["doc_id"],
                now,
                now + state.amazon_delay(QUEUE_SECONDS * faults.slow_feeds),
                int(state.faults.take_fatal_feed()),
                faults.slow_feeds,
                faults.partial_acceptance,
            ),
        )
    state.kick()
    return 202, {"feedId": feed_id}


def render_feed(row) -> dict[str, Any]:
    found: dict[str, Any] = {
        "feedId": row["feed_id"],
        "feedType": row["feed_type"],
        "marketplaceIds": json.loads(row["marketplace_ids"]),
        "createdTime": iso_ms(row["created_at"]),
        "processingStatus": row["status"],
    }
    if row["processing_start"] is not None:
        found["processingStartTime"] = iso_ms(row["processing_start"])
    if row["status"] in ("DONE", "FATAL", "CANCELLED"):
        found["processingEndTime"] = iso_ms(row["processing_end"])
        if row["result_doc_id"]:
            found["resultFeedDocumentId"] = row["result_doc_id"]
    return found


def get_feed(call: Call) -> tuple[int, Any]:
    row = call.state.db.one("SELECT * FROM feeds WHERE feed_id = ?", (call.path["feedId"],))
    if row is None or row["seller_id"] != call.seller_id:
        raise ApiError(404, "NotFound", f"Feed {call.path['feedId']} was not found for this seller.")
    return 200, render_feed(row)


def get_feeds(call: Call) -> tuple[int, Any]:
    """getFeeds: the seller's feeds, newest first, filtered like Amazon's (feedTypes required without a
    nextToken; createdSince defaults to 90 days ago)."""
    q = call.query
    if "nextToken" in q:
        q = decode_token(q["nextToken"], "nextToken")
    elif not q.get("feedTypes"):
        raise invalid_input("feedTypes is required when nextToken is not given.")
    now = call.state.clock.now()
    since = parse_iso(q["createdSince"]) if q.get("createdSince") else now - 90 * 86400
    until = parse_iso(q["createdUntil"]) if q.get("createdUntil") else now
    size = int(q.get("pageSize") or 10)
    offset = int(q.get("offset") or 0)
    rows = [
        row
        for row in call.state.db.query(
            "SELECT * FROM feeds WHERE seller_id = ? AND created_at >= ? AND created_at <= ? "
            "ORDER BY created_at DESC, feed_id DESC",
            (call.seller_id, since, until),
        )
        if row["feed_type"] in q["feedTypes"]
        and (not q.get("marketplaceIds") or set(json.loads(row["marketplace_ids"])) & set(q["marketplaceIds"]))
        and (not q.get("processingStatuses") or row["status"] in q["processingStatuses"])
    ]
    body: dict[str, Any] = {"feeds": [render_feed(row) for row in rows[offset : offset + size]]}
    if offset + size < len(rows):
        body["nextToken"] = encode_token(
            {
                **{k: v for k, v in q.items() if k != "nextToken"},
                "createdSince": iso_ms(since),
                "createdUntil": iso_ms(until),
                "offset": offset + size,
            }
        )
    return 200, body


def get_feed_document(call: Call) -> tuple[int, Any]:
    doc = documents.load(call.state, call.path["feedDocumentId"])
    if doc is None or doc["seller_id"] != call.seller_id:
        raise ApiError(404, "NotFound", f"Feed document {call.path['feedDocumentId']} was not found for this seller.")
    body: dict[str, Any] = {
        "feedDocumentId": doc["doc_id"],
        "url": documents.signed_url(call.state, doc["doc_id"], "download"),
    }
    if doc["compression"]:
        body["compressionAlgorithm"] = doc["compression"]
    return 200, body


HANDLERS = {
    "createFeedDocument": create_feed_document,
    "createFeed": create_feed,
    "getFeed": get_feed,
    "getFeeds": get_feeds,
    "getFeedDocument": get_feed_document,
}
