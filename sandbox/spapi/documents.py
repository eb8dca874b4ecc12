"""Feed and report documents: pre-signed upload/download URLs served by the sandbox itself.

Amazon hands out pre-signed S3 URLs that expire after five minutes; the sandbox signs
``/_documents/<id>?expires=...&signature=...`` the same way (real minutes, not scaled).
"""

from __future__ import annotations

import gzip
import uuid
from typing import Any

from sandbox.spapi.state import State

URL_SECONDS = 300


def new_document_id(state: State, region: str) -> str:
    return f"amzn1.tortuga.4.{region}.{uuid.uuid4()}.T{state.random_token('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 12)}"


def signed_url(state: State, doc_id: str, action: str) -> str:
    expires = int(state.clock.now() + URL_SECONDS)
    signature = state.sign(f"{action}:{doc_id}:{expires}")
    return f"{state.base_url}/_documents/{action}/{doc_id}?expires={expires}&signature={signature}"


def check_signature(state: State, action: str, doc_id: str, expires: str | None, signature: str | None) -> str | None:
    """None when the URL is valid, else S3's error code (AccessDenied / the URL expired)."""
    if not expires or not signature or not state.verify(f"{action}:{doc_id}:{expires}", signature):
        return "SignatureDoesNotMatch"
    if int(expires) < state.clock.now():
        return "AccessDenied"
    return None


def store(
    state: State,
    doc_id: str,
    kind: str,
    seller_id: str,
    content_type: str | None,
    content: bytes | None = None,
    compression: str | None = None,
) -> None:
    now = state.clock.now()
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, kind, seller_id, content_type, compression, now, now if content is not None else None, content),
        )


def upload(state: State, doc_id: str, content: bytes, content_type: str | None) -> bool:
    with state.db.tx() as conn:
        return (
            conn.execute(
                "UPDATE documents SET content = ?, uploaded_at = ?, content_type = COALESCE(?, content_type) "
                "WHERE doc_id = ? AND kind = 'feed_input'",
                (content, state.clock.now(), content_type, doc_id),
            ).rowcount
            == 1
        )


def load(state: State, doc_id: str) -> Any:
    return state.db.one("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))


def compress(content: bytes) -> bytes:
    return gzip.compress(content, compresslevel=6, mtime=0)


def s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
