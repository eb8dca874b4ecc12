"""Feed submissions that are recorded before they are sent, so a retried task never submits twice.

One row of ``mip.feed_submissions`` per feed document (``batch_key`` = run + document number),
holding the document's bytes and its SKUs. Sending walks the row through its lifecycle, committing
after every step, so a task killed at any point resumes where it stopped:

    recorded -> document_created -> uploaded -> submitting -> submitted -> done

``submitting`` is written (and committed) just before ``createFeed``, under a per-seller advisory lock
that every MIP createFeed takes. A resumed row still ``submitting`` means the crash happened around
that call: the seller's feeds created since then (``getFeeds``) that no submission has recorded can
only be this one, so it is adopted instead of being created again.

Amazon's processing report is stored on the row once fetched and turned into per-SKU outcomes
(accepted, or the ERROR issues that rejected the message).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg

from mip.amazon import apis
from mip.amazon import feeds as amazon_feeds
from mip.amazon.gateway import SpApiGateway
from mip.listings.feeds import FEED_TYPE, FeedDocument
from mip.store.db import one

# Pre-signed upload URLs live about 5 minutes; a document older than this is created again.
UPLOAD_URL_LIFETIME = timedelta(minutes=4)
# Amazon's and the database's clocks differ a little: look for adoptable feeds a bit earlier.
CLOCK_MARGIN = timedelta(minutes=2)


class AmbiguousSubmission(RuntimeError):
    pass


@dataclass(frozen=True)
class Submission:
    id: int
    channel_id: str
    status: str
    feed_id: str | None
    processing_status: str | None
    message_count: int


@dataclass
class Outcome:
    """What Amazon made of one submission's messages."""

    submission_id: int
    processing_status: str
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sku -> ERROR issues
    warnings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fatal_reason: str | None = None

    def issue_codes(self) -> Counter:
        return Counter(issue.get("code", "?") for issues in self.rejected.values() for issue in issues)


def record(
    conn: psycopg.Connection,
    *,
    batch_key: str,
    channel_id: str,
    dag_id: str,
    run_id: str,
    account_id: str,
    seller_id: str,
    marketplace_id: str,
    document: FeedDocument,
    feed_type: str = FEED_TYPE,
) -> Submission:
    """Record a document before anything is sent (idempotent on ``batch_key``)."""
    conn.execute(
        "INSERT INTO mip.feed_submissions (channel_id, dag_id, run_id, batch_key, feed_type, message_count,"
        " document_sha256, status, account_id, seller_id, marketplace_id, document, skus)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, 'recorded', %s, %s, %s, %s, %s) ON CONFLICT (batch_key) DO NOTHING",
        (
            channel_id,
            dag_id,
            run_id,
            batch_key,
            feed_type,
            document.message_count,
            document.sha256,
            account_id,
            seller_id,
            marketplace_id,
            document.body,
            json.dumps(document.skus),
        ),
    )
    conn.commit()
    return load(conn, batch_key=batch_key)


def load(conn: psycopg.Connection, *, submission_id: int | None = None, batch_key: str | None = None) -> Submission:
    row = conn.execute(
        "SELECT id, channel_id, status, feed_id, processing_status, message_count FROM mip.feed_submissions"
        " WHERE id = %s OR batch_key = %s",
        (submission_id, batch_key),
    ).fetchone()
    if row is None:
        raise KeyError(f"no feed submission {submission_id or batch_key}")
    return Submission(*row)


def _set(conn: psycopg.Connection, submission_id: int, **values: Any) -> None:
    assignments = ", ".join(f"{name} = %({name})s" for name in values)
    conn.execute(f"UPDATE mip.feed_submissions SET {assignments} WHERE id = %(id)s", {**values, "id": submission_id})
    conn.commit()


def send(conn: psycopg.Connection, gateway: SpApiGateway, submission_id: int, country: str) -> str:
    """Create the document, upload it and create the feed, resuming a recorded submission. Returns the feed id."""
    row = one(
        conn.execute(
            "SELECT status, feed_id, feed_document_id, upload_url, document, marketplace_id, seller_id,"
            " document_created_at < now() - %s AS url_stale FROM mip.feed_submissions WHERE id = %s",
            (UPLOAD_URL_LIFETIME, submission_id),
        )
    )
    status, feed_id, document_id, upload_url, body, marketplace_id, seller_id, url_stale = row
    if feed_id:
        return feed_id
    if status == "recorded" or (status == "document_created" and url_stale):
        created = amazon_feeds.create_feed_document(gateway, country)
        document_id, upload_url = created.document_id, created.upload_url
        _set(
            conn,
            submission_id,
            status="document_created",
            feed_document_id=document_id,
            upload_url=upload_url,
            document_created_at=_now(conn),
        )
        status = "document_created"
    if status == "document_created":
        amazon_feeds.upload_feed_document(gateway, amazon_feeds.DocumentUpload(document_id, upload_url), bytes(body))
        _set(conn, submission_id, status="uploaded")
    return _create_feed_once(conn, gateway, submission_id, country, seller_id, marketplace_id, document_id)


def _now(conn: psycopg.Connection):
    return one(conn.execute("SELECT now()"))[0]


def _create_feed_once(
    conn: psycopg.Connection,
    gateway: SpApiGateway,
    submission_id: int,
    country: str,
    seller_id: str,
    marketplace_id: str,
    document_id: str,
) -> str:
    conn.execute("SELECT pg_advisory_lock(hashtext('mip.createFeed:' || %s))", (seller_id,))
    try:
        status, submitting_at = one(
            conn.execute("SELECT status, submitting_at FROM mip.feed_submissions WHERE id = %s", (submission_id,))
        )
        conn.commit()
        if status == "submitting":
            adopted = _adoptable_feed(conn, gateway, country, seller_id, marketplace_id, submitting_at)
            if adopted:
                _set(conn, submission_id, status="submitted", feed_id=adopted, submitted_at=_now(conn))
                return adopted
        _set(conn, submission_id, status="submitting", submitting_at=_now(conn))
        feed_id = amazon_feeds.create_feed(gateway, country, FEED_TYPE, document_id, [marketplace_id])
        _set(conn, submission_id, status="submitted", feed_id=feed_id, submitted_at=_now(conn))
        return feed_id
    finally:
        conn.rollback()
        conn.execute("SELECT pg_advisory_unlock(hashtext('mip.createFeed:' || %s))", (seller_id,))
        conn.commit()


def _adoptable_feed(conn, gateway, country, seller_id, marketplace_id, submitting_at) -> str | None:
    """The feed a crashed ``createFeed`` created, if Amazon has it (see the module docstring)."""
    since = (submitting_at - CLOCK_MARGIN).isoformat()
    feeds = gateway.call(
        "getFeeds",
        lambda: apis.feeds(gateway, country).get_feeds(
            feedTypes=[FEED_TYPE], marketplaceIds=[marketplace_id], createdSince=since, pageSize=100
        ),
        country=country,
    ).payload.get("feeds", [])
    ids = [f["feedId"] for f in feeds]
    known = {
        r[0]
        for r in conn.execute(
            "SELECT feed_id FROM mip.feed_submissions WHERE seller_id = %s AND feed_id = ANY(%s)", (seller_id, ids)
        )
    }
    unknown = [i for i in ids if i not in known]
    if len(unknown) > 1:
        raise AmbiguousSubmission(
            f"feeds {', '.join(unknown)} were created since this submission's createFeed was attempted and none is "
            "recorded; check them in Seller Central (or with getFeed) and record the right one in "
            "mip.feed_submissions.feed_id before re-running"
        )
    return unknown[0] if unknown else None


def poll(conn: psycopg.Connection, gateway: SpApiGateway, submission_id: int, country: str) -> str:
    """One getFeed; records and returns Amazon's processing status."""
    feed_id = load(conn, submission_id=submission_id).feed_id
    if feed_id is None:
        raise RuntimeError(f"feed submission {submission_id} has no feed to poll yet: send it first")
    feed = amazon_feeds.get_feed(gateway, country, feed_id)
    values: dict[str, Any] = {"processing_status": feed["processingStatus"]}
    if feed.get("resultFeedDocumentId"):
        values["result_document_id"] = feed["resultFeedDocumentId"]
    _set(conn, submission_id, **values)
    return feed["processingStatus"]


def outcome(conn: psycopg.Connection, gateway: SpApiGateway, submission_id: int, country: str) -> Outcome:
    """Per-SKU results of a processed feed (the processing report is downloaded once and kept)."""
    status, result_id, report, skus = one(
        conn.execute(
            "SELECT processing_status, result_document_id, report, skus FROM mip.feed_submissions WHERE id = %s",
            (submission_id,),
        )
    )
    if status not in amazon_feeds.DONE_STATUSES:
        raise RuntimeError(f"feed submission {submission_id} is still {status}")
    if report is None and result_id:
        report = json.loads(amazon_feeds.download_feed_result(gateway, country, result_id))
        _set(conn, submission_id, report=json.dumps(report))
    _set(conn, submission_id, status="done", finished_at=_now(conn))
    return parse_report(submission_id, status, report or {}, skus)


def parse_report(submission_id: int, status: str, report: dict[str, Any], skus: list[str]) -> Outcome:
    result = Outcome(submission_id, status)
    issues_by_sku: dict[str, list[dict[str, Any]]] = {}
    for issue in report.get("issues", []):
        message_id = issue.get("messageId")
        sku = issue.get("sku") or (skus[message_id - 1] if message_id and message_id <= len(skus) else None)
        if sku is None:  # a feed-level issue (why a FATAL feed was refused)
            result.fatal_reason = f"{issue.get('code')}: {issue.get('message')}"
            continue
        issues_by_sku.setdefault(sku, []).append(issue)
    if status != "DONE":
        result.fatal_reason = result.fatal_reason or f"the feed ended {status} without a processing report"
        result.rejected = {
            sku: issues_by_sku.get(sku, [{"code": status, "severity": "ERROR", "message": result.fatal_reason}])
            for sku in skus
        }
        return result
    for sku in skus:
        issues = issues_by_sku.get(sku, [])
        errors = [i for i in issues if i.get("severity") == "ERROR"]
        if errors:
            result.rejected[sku] = errors
        else:
            result.accepted.append(sku)
            if issues:
                result.warnings[sku] = issues
    return result
