"""JSON_LISTINGS_FEED processing: IN_QUEUE -> IN_PROGRESS -> DONE or FATAL, with a v2 processing report.

Document-level problems end the feed FATAL with a processing report saying why, and nothing is
applied: not UTF-8/JSON (4000001), over 10 MiB or 25,000 messages (4000002), a header that does
not validate (4002006), a header sellerId that is not the feed's seller (4000004), messages that
do not validate against the message schema (4002008, one issue per message) and the
``fatal_feeds`` fault (4000005). Otherwise every message is applied like the Listings Items API
would apply it (UPDATE = put, PARTIAL_UPDATE = patch with "replace", PATCH, DELETE) and the feed
ends DONE; a message refused by the ``partial_acceptance`` fault gets issue 4000003.
Processing takes 60 s + 0.02 s per message (Amazon time, times ``slow_feeds``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from typing import Any

from sandbox.spapi import documents
from sandbox.spapi.contract import feed_envelope_validator, message_validator
from sandbox.spapi.feeds.fastcheck import surely_valid
from sandbox.spapi.listings import store
from sandbox.spapi.state import State

MAX_BYTES = 10 * 1024 * 1024
MAX_MESSAGES = 25_000
CHUNK = 500
BASE_SECONDS = 60.0
PER_MESSAGE_SECONDS = 0.02


class Fatal(Exception):
    def __init__(self, issues: list[dict[str, Any]], processed: int = 0) -> None:
        super().__init__(issues[0]["message"])
        self.issues = issues
        self.processed = processed


def _fatal(code: str, message: str) -> Fatal:
    return Fatal([{"code": code, "severity": "ERROR", "message": message}])


def decode_document(raw: bytes | None) -> Any:
    if raw is None:
        raise _fatal("4000001", "The feed document is empty: nothing was uploaded to the feed document URL.")
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fatal("4000001", f"The feed document is not a valid GZIP stream: {exc}.") from None
    if len(raw) > MAX_BYTES:
        raise _fatal("4000002", f"The feed document is {len(raw)} bytes; the maximum is {MAX_BYTES} bytes (10 MiB).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fatal(
            "4000001",
            f"The feed document is not valid UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 4]!r}); "
            "upload the JSON encoded as UTF-8.",
        ) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _fatal("4000001", f"The feed document is not valid JSON: {exc}.") from None


def validate_document(document: Any, seller_id: str) -> list[dict[str, Any]]:
    """The document's messages after validating it against listings-feed-schema-v2.json.

    The document is checked in two steps that together are exactly the schema: everything but the
    message items, then each message against the schema's item definition (so every invalid
    message is reported with its messageId). Raises Fatal for any violation.
    """
    if not isinstance(document, dict):
        raise _fatal("4002006", "The feed document must be a JSON object with 'header' and 'messages'.")
    messages = document.get("messages")
    if isinstance(messages, list) and len(messages) > MAX_MESSAGES:
        raise _fatal("4000002", f"The feed has {len(messages)} messages; the maximum is {MAX_MESSAGES}.")
    structural = list(feed_envelope_validator().iter_errors(document))
    if structural:
        raise Fatal(
            [
                {
                    "code": "4002006",
                    "severity": "ERROR",
                    "message": f"The feed document does not meet the schema requirements at "
                    f"'{'/'.join(str(p) for p in e.absolute_path) or '<root>'}': {e.message[:300]}",
                }
                for e in structural
            ]
        )
    if document["header"]["sellerId"] != seller_id:
        raise _fatal(
            "4000004",
            f"The header sellerId '{document['header']['sellerId']}' is not the seller "
            f"'{seller_id}' that submitted the feed.",
        )
    issues, seen = [], set()
    validator = message_validator()
    for position, message in enumerate(messages):
        errors: list[Any] = [] if surely_valid(message) else list(validator.iter_errors(message))
        message_id = message.get("messageId") if isinstance(message, dict) else None
        valid_id = isinstance(message_id, int) and not isinstance(message_id, bool) and message_id >= 1
        if valid_id:
            if message_id in seen:
                errors.append(f"messageId {message_id} is not unique within the feed")
            seen.add(message_id)
        if errors:
            detail = "; ".join(e if isinstance(e, str) else _describe(e) for e in errors[:3])
            found = {
                "code": "4002008",
                "severity": "ERROR",
                "message": f"The provided message did not meet the schema validation requirements for a feed "
                f"message (messages[{position}]): {detail}",
            }
            if valid_id:
                found["messageId"] = message_id
            if isinstance(message, dict) and isinstance(message.get("sku"), str) and message["sku"]:
                found["sku"] = message["sku"]
            issues.append(found)
    if issues:
        raise Fatal(issues, processed=len(messages))
    return messages


def _describe(error) -> str:
    if error.validator == "oneOf":
        operation = error.instance.get("operationType") if isinstance(error.instance, dict) else None
        return f"the fields do not fit operationType {operation!r} ({error.message[:200]})"
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message[:200]}"


def _rejected(feed: Any, message_id: int) -> bool:
    fraction = feed["partial_fraction"]
    if fraction <= 0:
        return False
    digest = hashlib.sha256(f"{feed['feed_id']}:{message_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def apply_messages(state: State, feed: Any, header: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    seller_id = feed["seller_id"]
    marketplace_ids = json.loads(feed["marketplace_ids"])
    region = state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (seller_id,))["region"]
    issues: list[dict[str, Any]] = []
    accepted = invalid = 0
    accepted_skus: list[str] = []
    for start in range(0, len(messages), CHUNK):
        with state.db.tx() as conn:
            for message in messages[start : start + CHUNK]:
                message_id, sku, operation = message["messageId"], message["sku"], message["operationType"]
                if _rejected(feed, message_id):
                    outcome_issues = [
                        {
                            "code": "4000003",
                            "severity": "ERROR",
                            "message": "Amazon could not process "
                            "this message because of an internal error. Resubmit the message.",
                        }
                    ]
                    status = "INVALID"
                else:
                    if operation == "DELETE":
                        outcome = store.delete(
                            state, conn, seller_id=seller_id, marketplace_ids=marketplace_ids, sku=sku
                        )
                    elif operation == "UPDATE":
                        outcome = store.put(
                            state,
                            conn,
                            seller_id=seller_id,
                            region=region,
                            marketplace_ids=marketplace_ids,
                            sku=sku,
                            body={
                                "productType": message["productType"],
                                "requirements": message.get("requirements", "LISTING"),
                                "attributes": message["attributes"],
                            },
                            preview=False,
                            source="feed",
                        )
                    else:
                        patches = message.get("patches") or [
                            {"op": "replace", "path": f"/attributes/{name}", "value": value}
                            for name, value in message["attributes"].items()
                        ]
                        outcome = store.patch(
                            state,
                            conn,
                            seller_id=seller_id,
                            region=region,
                            marketplace_ids=marketplace_ids,
                            sku=sku,
                            product_type=message["productType"],
                            patches=patches,
                            preview=False,
                            source="feed",
                        )
                    outcome_issues, status = outcome.issues, outcome.status
                for found in outcome_issues:
                    entry = {
                        "messageId": message_id,
                        "sku": sku,
                        "code": found["code"],
                        "severity": found["severity"],
                        "message": found["message"],
                    }
                    if found.get("attributeNames"):
                        entry["attributeName"] = found["attributeNames"][0]
                    issues.append(entry)
                if status == "ACCEPTED":
                    accepted += 1
                    if operation != "DELETE":
                        accepted_skus.append(sku)
                else:
                    invalid += 1
    report: dict[str, Any] = {
        "header": {"sellerId": seller_id, "version": "2.0", "feedId": feed["feed_id"]},
        "issues": issues,
        "summary": {
            "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
            "messagesProcessed": len(messages),
            "messagesAccepted": accepted,
            "messagesInvalid": invalid,
        },
    }
    requested = (header.get("report") or {}).get("includedData")
    if requested:
        report["header"]["report"] = header["report"]
        conn = state.db.conn()
        items = []
        for sku in dict.fromkeys(accepted_skus):
            rows = [r for r in (store.load(conn, seller_id, mp, sku) for mp in marketplace_ids) if r is not None]
            if rows:
                items.append(store.render_item(rows, requested))
        item_issues = [i for item in items for i in item.get("issues", [])]
        report["summary"]["itemSummary"] = {
            "items": len(items),
            "errors": sum(1 for i in item_issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in item_issues if i["severity"] == "WARNING"),
        }
        report["items"] = items
    return report


def fatal_report(feed: Any, error: Fatal) -> dict[str, Any]:
    return {
        "header": {"sellerId": feed["seller_id"], "version": "2.0", "feedId": feed["feed_id"]},
        "issues": error.issues,
        "summary": {
            "errors": len(error.issues),
            "warnings": 0,
            "messagesProcessed": error.processed,
            "messagesAccepted": 0,
            "messagesInvalid": error.processed,
        },
    }


def process(state: State, feed: Any) -> None:
    """Run one feed that just entered IN_PROGRESS: apply it and write its processing report."""
    started = time.perf_counter()
    doc = documents.load(state, feed["input_doc_id"])
    messages_count = 0
    try:
        document = decode_document(doc["content"] if doc else None)
        messages = validate_document(document, feed["seller_id"])
        messages_count = len(messages)
        if feed["forced_fatal"]:
            raise Fatal(
                [
                    {
                        "code": "4000005",
                        "severity": "ERROR",
                        "message": "Feed processing was aborted because "
                        "of an Amazon internal error. None of the messages were applied; resubmit the feed.",
                    }
                ],
                processed=0,
            )
        report, outcome = apply_messages(state, feed, document["header"], messages), "DONE"
    except Fatal as error:
        report, outcome = fatal_report(feed, error), "FATAL"
        messages_count = error.processed
    content = json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    result_id = documents.new_document_id(
        state, state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (feed["seller_id"],))["region"]
    )
    documents.store(state, result_id, "feed_result", feed["seller_id"], "application/json; charset=UTF-8", content)
    duration = state.amazon_delay((BASE_SECONDS + PER_MESSAGE_SECONDS * messages_count) * feed["slow_factor"])
    summary = report["summary"]
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE feeds SET outcome = ?, result_doc_id = ?, done_at = ?, messages = ?, accepted = ?, invalid = ?, "
            "errors = ?, warnings = ?, fatal_reason = ?, compute_seconds = ? WHERE feed_id = ?",
            (
                outcome,
                result_id,
                feed["processing_start"] + duration,
                summary["messagesProcessed"],
                summary["messagesAccepted"],
                summary["messagesInvalid"],
                summary["errors"],
                summary["warnings"],
                report["issues"][0]["message"] if outcome == "FATAL" else None,
                time.perf_counter() - started,
                feed["feed_id"],
            ),
        )


def tick(state: State) -> bool:
    """Move due feeds along; returns True when something happened."""
    now = state.clock.now()
    busy = False
    for feed in state.db.query(
        "SELECT * FROM feeds WHERE status = 'IN_QUEUE' AND start_at <= ? ORDER BY start_at", (now,)
    ):
        with state.db.tx() as conn:
            conn.execute(
                "UPDATE feeds SET status = 'IN_PROGRESS', processing_start = ? WHERE feed_id = ?",
                (now, feed["feed_id"]),
            )
        process(state, state.db.one("SELECT * FROM feeds WHERE feed_id = ?", (feed["feed_id"],)))
        busy = True
    now = state.clock.now()
    with state.db.tx() as conn:
        finished = conn.execute(
            "UPDATE feeds SET status = outcome, processing_end = done_at "
            "WHERE status = 'IN_PROGRESS' AND outcome IS NOT NULL AND done_at <= ?",
            (now,),
        ).rowcount
    return busy or finished > 0
