"""JSON_LISTINGS_FEED documents: split, numbered, validated, UTF-8 bytes.

Amazon takes at most 25,000 messages per document and documents under 10 MiB; a document holds
``{"header": {"sellerId", "version": "2.0", "issueLocale"}, "messages": [...]}`` with ``messageId``
1, 2, ... in each document. Messages are serialised once, compactly (``ensure_ascii=False``), and a
document is closed before either limit would be crossed, so the split is exact.
``plan_batches`` computes the same split from message sizes alone (``mip.stage_plan.payload_bytes``),
so a submission task can be mapped per document before any document is built.

Every document is validated against Amazon's feed schema (``schemas/listings-feed-schema-v2.json``,
which validates each message) before it is returned; a message that fails is left out, diagnosed
against the message schema (``listings-feed-message-schema-v2.json``) and reported in
``FeedBuild.invalid`` with its SKU, so one bad message never blocks the others. Messages go out in
the order given (callers order by SKU), so rebuilding a run's documents gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent / "schemas"
FEED_SCHEMA = SCHEMAS / "listings-feed-schema-v2.json"
MESSAGE_SCHEMA = SCHEMAS / "listings-feed-message-schema-v2.json"
FEED_TYPE = "JSON_LISTINGS_FEED"
MAX_MESSAGES = 25_000
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # documents are strictly smaller
_ID_PREFIX = b'{"messageId":'


def compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _message_size(payload_bytes: int, message_id: int) -> int:
    """Bytes of ``{"messageId":N,`` + the payload without its opening brace."""
    return len(_ID_PREFIX) + len(str(message_id)) + 1 + payload_bytes - 1


@lru_cache(maxsize=2)
def _validator(path: Path):
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def message_problems(message: Mapping[str, Any]) -> list[str]:
    """Why ``message`` (with its messageId) fails Amazon's message schema; empty when it is valid."""
    problems = []
    errors = _validator(MESSAGE_SCHEMA).iter_errors(message)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        where = "/".join(str(p) for p in error.absolute_path) or "(message)"
        detail = error.message
        if error.validator == "oneOf":
            operation = message.get("operationType")
            detail = f"does not match exactly one operation shape of the schema (operationType {operation!r})"
        problems.append(f"{where}: {detail}")
    return problems


@dataclass(frozen=True)
class Batch:
    """One future document: messages ``first``..``last`` (positions in the ordered plan)."""

    index: int
    first: int
    last: int
    first_sku: str
    last_sku: str
    message_count: int
    size: int


class _Splitter:
    """Running size of the open document; says when the next message must start a new one."""

    def __init__(self, head: Mapping[str, Any], max_messages: int, max_bytes: int):
        self.overhead = len(b'{"header":' + compact(head) + b',"messages":[' + b"]}")
        self.max_messages, self.max_bytes = max_messages, max_bytes
        self.count, self.size = 0, self.overhead

    def _added(self, payload_bytes: int) -> int:
        return _message_size(payload_bytes, self.count + 1) + (1 if self.count else 0)

    def needs_new_document(self, payload_bytes: int) -> bool:
        return self.count > 0 and (
            self.count == self.max_messages or self.size + self._added(payload_bytes) >= self.max_bytes
        )

    def add(self, sku: str, payload_bytes: int) -> None:
        added = self._added(payload_bytes)
        if self.size + added >= self.max_bytes:
            raise ValueError(f"message for SKU {sku!r} alone ({payload_bytes:,} bytes) does not fit in a feed document")
        self.count += 1
        self.size += added

    def reset(self) -> None:
        self.count, self.size = 0, self.overhead


def plan_batches(
    sizes: Iterable[tuple[str, int]],
    head: Mapping[str, Any],
    *,
    max_messages: int = MAX_MESSAGES,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> list[Batch]:
    """Split messages ``(sku, payload_bytes)`` (in send order) into documents within both limits."""
    splitter = _Splitter(head, max_messages, max_bytes)
    batches: list[Batch] = []
    start, first_sku, last_sku, position = 0, "", "", -1
    for position, (sku, payload_bytes) in enumerate(sizes):
        if splitter.needs_new_document(payload_bytes):
            batches.append(Batch(len(batches), start, position - 1, first_sku, last_sku, splitter.count, splitter.size))
            splitter.reset()
            start = position
        if splitter.count == 0:
            first_sku = sku
        splitter.add(sku, payload_bytes)
        last_sku = sku
    if splitter.count:
        batches.append(Batch(len(batches), start, position, first_sku, last_sku, splitter.count, splitter.size))
    return batches


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    skus: tuple[str, ...]  # skus[i] is messageId i + 1
    operations: tuple[str, ...]

    @property
    def message_count(self) -> int:
        return len(self.skus)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def sku_of(self, message_id: int) -> str:
        return self.skus[message_id - 1]


@dataclass(frozen=True)
class InvalidMessage:
    sku: str
    problems: tuple[str, ...]


@dataclass
class FeedBuild:
    documents: list[FeedDocument] = field(default_factory=list)
    invalid: list[InvalidMessage] = field(default_factory=list)

    @property
    def message_count(self) -> int:
        return sum(d.message_count for d in self.documents)


def header(seller_id: str, issue_locale: str) -> dict[str, str]:
    return {"sellerId": seller_id, "version": "2.0", "issueLocale": issue_locale}


def _in_messages(error) -> bool:
    return len(error.absolute_path) > 1 and error.absolute_path[0] == "messages"


def _document(
    head: Mapping[str, Any], pending: list[tuple[dict[str, Any], bytes]], invalid: list[InvalidMessage]
) -> FeedDocument | None:
    """Validate the document against the feed schema, leaving out (and reporting) failing messages."""
    while pending:
        messages = [{"messageId": n, **m} for n, (m, _) in enumerate(pending, start=1)]
        document: dict[str, Any] = {"header": head, "messages": messages}
        errors = list(_validator(FEED_SCHEMA).iter_errors(document))
        other = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors if not _in_messages(e)]
        if other:
            raise ValueError(f"feed document does not match Amazon's feed schema: {other[:5]}")
        bad = {e.absolute_path[1] for e in errors}
        if not bad:
            parts = [
                _ID_PREFIX + str(number).encode() + b"," + payload[1:]
                for number, (_, payload) in enumerate(pending, start=1)
            ]
            body = b'{"header":' + compact(head) + b',"messages":[' + b",".join(parts) + b"]}"
            skus = tuple(m["sku"] for m, _ in pending)
            return FeedDocument(body, skus, tuple(m["operationType"] for m, _ in pending))
        for index in sorted(bad):
            message = document["messages"][index]
            invalid.append(InvalidMessage(str(message.get("sku")), tuple(message_problems(message))))
        pending = [p for i, p in enumerate(pending) if i not in bad]
    return None


def iter_documents(
    messages: Iterable[Mapping[str, Any]],
    *,
    seller_id: str,
    issue_locale: str,
    invalid: list[InvalidMessage] | None = None,
    max_messages: int = MAX_MESSAGES,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Iterator[FeedDocument]:
    """Feed documents for ``messages`` (from ``mip.listings.payloads``, without messageId), streamed.

    Holds one document's messages at a time. Messages failing the schema are appended to
    ``invalid`` and left out. Splits exactly as ``plan_batches`` over the same messages (when all
    are valid).
    """
    head = header(seller_id, issue_locale)
    invalid = [] if invalid is None else invalid
    splitter = _Splitter(head, max_messages, max_bytes)
    pending: list[tuple[dict[str, Any], bytes]] = []
    for message in messages:
        body = {k: v for k, v in message.items() if k != "messageId"}
        payload = compact(body)
        if splitter.needs_new_document(len(payload)):
            document = _document(head, pending, invalid)
            if document:
                yield document
            pending = []
            splitter.reset()
        splitter.add(str(body.get("sku")), len(payload))
        pending.append((body, payload))
    document = _document(head, pending, invalid)
    if document:
        yield document


def build_documents(messages: Iterable[Mapping[str, Any]], **kwargs: Any) -> FeedBuild:
    """All documents at once (tests, small plans); see ``iter_documents``."""
    build = FeedBuild()
    build.documents = list(iter_documents(messages, invalid=build.invalid, **kwargs))
    return build


def iter_document_messages(body: bytes) -> Iterator[dict[str, Any]]:
    """The messages of a built document (for tests and for reading back what was sent)."""
    yield from json.loads(body.decode("utf-8"))["messages"]
