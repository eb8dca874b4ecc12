"""Reports API 2021-06-30: createReport, getReport, getReportDocument, and report processing.

Reports move IN_QUEUE (30 s) -> IN_PROGRESS (60 s + 1 s per 5,000 rows) -> DONE in Amazon time; the
``fatal_reports`` / ``cancelled_reports`` faults end the next N requested reports FATAL / CANCELLED (no document)
when they leave the queue.
Documents larger than 64 KiB are GZIP-compressed (``compressionAlgorithm: GZIP``) as Amazon does
for big reports; ``reportOptions: {"sandboxCompression": "GZIP" | "NONE"}`` forces either way.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from sandbox.spapi import documents
from sandbox.spapi.accounts import require_marketplaces
from sandbox.spapi.call import Call
from sandbox.spapi.clock import DAY, iso_ms, parse_iso
from sandbox.spapi.errors import ApiError, invalid_input
from sandbox.spapi.reports.content import REPORT_TYPES, build, malform, truncate
from sandbox.spapi.state import State

QUEUE_SECONDS = 30.0
BASE_SECONDS = 60.0
ROWS_PER_SECOND = 5000.0
GZIP_ABOVE = 64 * 1024


def create_report(call: Call) -> tuple[int, Any]:
    body = call.body
    report_type = body["reportType"]
    if report_type not in REPORT_TYPES:
        raise invalid_input(f"Invalid reportType {report_type}: the sandbox produces {', '.join(REPORT_TYPES)}.")
    marketplace_ids = require_marketplaces(call.state, call.seller_id, body["marketplaceIds"])
    now = call.state.clock.now()
    try:
        end = parse_iso(body["dataEndTime"]) if body.get("dataEndTime") else now
        start = parse_iso(body["dataStartTime"]) if body.get("dataStartTime") else end - 30 * DAY
    except ValueError as exc:
        raise invalid_input(f"Invalid dataStartTime/dataEndTime: {exc}.") from None
    if start > end:
        raise invalid_input("dataStartTime must be before dataEndTime.")
    options = body.get("reportOptions") or {}
    faults = call.state.faults.current
    state = call.state
    with state.db.tx() as conn:
        report_id = str(60_000_000_000 + state.db.next_value("reports", start=secrets.randbelow(10**8)) * 13)
        conn.execute(
            "INSERT INTO reports (report_id, seller_id, report_type, marketplace_ids, data_start, data_end, options, "
            "created_at, status, start_at, faults) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'IN_QUEUE', ?, ?)",
            (
                report_id,
                call.seller_id,
                report_type,
                json.dumps(marketplace_ids),
                start,
                min(end, now),
                json.dumps(options),
                now,
                now + state.amazon_delay(QUEUE_SECONDS),
                json.dumps(
                    {
                        "truncated": faults.truncated_reports,
                        "malformed": faults.malformed_reports,
                        "ends": call.state.faults.report_ending(),
                    }
                ),
            ),
        )
    state.kick()
    return 202, {"reportId": report_id}


def render_report(row) -> dict[str, Any]:
    found: dict[str, Any] = {
        "marketplaceIds": json.loads(row["marketplace_ids"]),
        "reportId": row["report_id"],
        "reportType": row["report_type"],
        "dataStartTime": iso_ms(row["data_start"]),
        "dataEndTime": iso_ms(row["data_end"]),
        "createdTime": iso_ms(row["created_at"]),
        "processingStatus": row["status"],
    }
    if row["processing_start"] is not None:
        found["processingStartTime"] = iso_ms(row["processing_start"])
    if row["status"] == "DONE":
        found["processingEndTime"] = iso_ms(row["processing_end"])
        found["reportDocumentId"] = row["doc_id"]
    return found


def get_report(call: Call) -> tuple[int, Any]:
    row = call.state.db.one("SELECT * FROM reports WHERE report_id = ?", (call.path["reportId"],))
    if row is None or row["seller_id"] != call.seller_id:
        raise ApiError(404, "NotFound", f"Report {call.path['reportId']} was not found for this seller.")
    return 200, render_report(row)


def get_report_document(call: Call) -> tuple[int, Any]:
    doc = documents.load(call.state, call.path["reportDocumentId"])
    if doc is None or doc["seller_id"] != call.seller_id or doc["kind"] != "report":
        raise ApiError(
            404, "NotFound", f"Report document {call.path['reportDocumentId']} was not found for this seller."
        )
    body: dict[str, Any] = {
        "reportDocumentId": doc["doc_id"],
        "url": documents.signed_url(call.state, doc["doc_id"], "download"),
    }
    if doc["compression"]:
        body["compressionAlgorithm"] = doc["compression"]
    return 200, body


def process(state: State, report: Any) -> None:
    from sandbox.spapi.orders.generate import advance

    started = time.perf_counter()
    advance(state)
    content, rows = build(state.db.conn(), report)
    faults = json.loads(report["faults"] or "{}")
    if faults.get("malformed"):
        content = malform(content)
    if faults.get("truncated"):
        content = truncate(content)
    mode = json.loads(report["options"] or "{}").get("sandboxCompression", "AUTO").upper()
    compression = "GZIP" if mode == "GZIP" or (mode == "AUTO" and len(content) > GZIP_ABOVE) else None
    if compression:
        content = documents.compress(content)
    region = state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (report["seller_id"],))["region"]
    doc_id = documents.new_document_id(state, region)
    documents.store(
        state, doc_id, "report", report["seller_id"], "text/tab-separated-values; charset=UTF-8", content, compression
    )
    duration = state.amazon_delay(BASE_SECONDS + rows / ROWS_PER_SECOND)
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE reports SET doc_id = ?, rows = ?, done_at = ? WHERE report_id = ?",
            (
                doc_id,
                rows,
                report["processing_start"] + max(duration, time.perf_counter() - started),
                report["report_id"],
            ),
        )


def tick(state: State) -> bool:
    now = state.clock.now()
    busy = False
    for report in state.db.query("SELECT * FROM reports WHERE status = 'IN_QUEUE' AND start_at <= ?", (now,)):
        ending = json.loads(report["faults"] or "{}").get("ends")
        if ending:  # the fatal_reports / cancelled_reports faults: no document
            with state.db.tx() as conn:
                conn.execute(
                    "UPDATE reports SET status = ?, processing_start = ?, processing_end = ? WHERE report_id = ?",
                    (ending, now, now, report["report_id"]),
                )
            busy = True
            continue
        with state.db.tx() as conn:
            conn.execute(
                "UPDATE reports SET status = 'IN_PROGRESS', processing_start = ? WHERE report_id = ?",
                (now, report["report_id"]),
            )
        process(state, state.db.one("SELECT * FROM reports WHERE report_id = ?", (report["report_id"],)))
        busy = True
    now = state.clock.now()
    with state.db.tx() as conn:
        finished = conn.execute(
            "UPDATE reports SET status = 'DONE', processing_end = done_at WHERE status = 'IN_PROGRESS' "
            "AND doc_id IS NOT NULL AND done_at <= ?",
            (now,),
        ).rowcount
    return busy or finished > 0


HANDLERS = {"createReport": create_report, "getReport": get_report, "getReportDocument": get_report_document}
