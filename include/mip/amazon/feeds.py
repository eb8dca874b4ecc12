"""Feeds API 2021-06-30 through the gateway, one operation per function.

Submitting is three steps (createFeedDocument, the upload, createFeed) so the caller can record each
step before taking the next: a retried task then resumes instead of submitting twice. Documents are
uploaded as bytes (python-amazon-sp-api encodes a ``str`` as Latin-1; JSON feeds must be UTF-8).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mip.amazon import apis, errors
from mip.amazon.gateway import SpApiGateway
from mip.amazon.retry import Retry

log = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
DONE_STATUSES = {"DONE", "FATAL", "CANCELLED"}


@dataclass(frozen=True)
class DocumentUpload:
    """Where a feed document's bytes go: Amazon's document id and its pre-signed upload URL."""

    document_id: str
    upload_url: str


def _feeds(gateway: SpApiGateway, country: str):
    return apis.feeds(gateway, country)


def create_feed_document(gateway: SpApiGateway, country: str, content_type: str = JSON_CONTENT_TYPE) -> DocumentUpload:
    response = gateway.call(
        "createFeedDocument", lambda: _feeds(gateway, country).create_feed_document(None, content_type), country=country
    )
    return DocumentUpload(response.payload["feedDocumentId"], response.payload["url"])


def upload_feed_document(
    gateway: SpApiGateway, document: DocumentUpload, content: bytes, content_type: str = JSON_CONTENT_TYPE
) -> None:
    """PUT the document's bytes to its pre-signed URL (no usage plan; network errors and 5xx retried
    under the gateway's retry policy)."""
    import httpx

    operation = "feed document upload"

    def attempt() -> None:
        try:
            answer = httpx.put(
                document.upload_url,
                content=content,
                headers={"Content-Type": content_type},
                timeout=gateway.policy.timeout,
            )
        except httpx.TransportError as exc:
            raise Retry(repr(exc), errors.AmazonUnavailable(gateway.account, operation, repr(exc))) from None
        if answer.status_code < 300:
            return
        problem = f"HTTP {answer.status_code}: {answer.text[:200]}"
        if answer.status_code < 500:
            raise errors.AmazonRequestRejected(gateway.account, operation, answer.status_code, problem)
        raise Retry(problem, errors.AmazonUnavailable(gateway.account, operation, problem))

    def waiting(failure: Retry, failed: int, delay: float) -> None:
        log.warning("%s for account %s: %s; retry %d in %.1f s", operation, gateway.account, failure, failed, delay)

    gateway.policy.run(attempt, on_retry=waiting)


def create_feed(
    gateway: SpApiGateway, country: str, feed_type: str, document_id: str, marketplace_ids: list[str]
) -> str:
    response = gateway.call(
        "createFeed",
        lambda: _feeds(gateway, country).create_feed(feed_type, document_id, marketplaceIds=marketplace_ids),
        country=country,
    )
    return response.payload["feedId"]


def get_feed(gateway: SpApiGateway, country: str, feed_id: str) -> dict[str, Any]:
    """The feed: ``processingStatus`` (IN_QUEUE, IN_PROGRESS, DONE, FATAL, CANCELLED), ``resultFeedDocumentId``."""
    return gateway.call("getFeed", lambda: _feeds(gateway, country).get_feed(feed_id), country=country).payload


def download_feed_result(gateway: SpApiGateway, country: str, document_id: str) -> str:
    """The processing report's text (decompressed)."""
    return gateway.call(
        "getFeedDocument", lambda: _feeds(gateway, country).get_feed_result_document(document_id), country=country
    )
