"""The OAuth ``state`` of a consent: signed, expiring, single-use, bound to the Airflow user.

A state is ``v1.<nonce>.<expires>.<signature>``: the signature is an HMAC-SHA256 of the rest with a
key derived from Airflow's ``[api] secret_key`` (shared by every api-server), so a state cannot be
forged or altered. The nonce names a row of ``mip.marketplace_authorizations`` holding what the
consent is for (account, channel, expected Seller ID) and who started it; the callback consumes the
row with one ``UPDATE ... WHERE used_at IS NULL``, so a state works once, even when two requests race.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

VERSION = "v1"
TTL = timedelta(minutes=10)  # Amazon's consent codes live 5 minutes; the seller needs time to sign in
_KEY_LABEL = b"mip-marketplaces-oauth-state-v1"


class StateRefused(Exception):
    """The callback's state is not acceptable; ``reason`` is a short code, the message says what to do;
    ``nonce`` the row the state names, when it can be read (``record_refusal`` keeps the refusal there)."""

    def __init__(self, reason: str, message: str, nonce: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.nonce = nonce


@dataclass(frozen=True)
class Authorization:
    """What a consent is for (a row of ``mip.marketplace_authorizations``)."""

    nonce: str
    purpose: str  # connect | international | reset | switch
    account_id: str
    channel_id: str | None
    seller_id: str  # the Seller ID the user entered: Amazon's selling_partner_id must equal it
    country: str
    user_name: str
    expires_at: datetime


def derive_key(secret_key: str) -> bytes:
    """The signing key: an HMAC of a fixed label with Airflow's ``[api] secret_key``."""
    if not secret_key:
        raise ValueError(
            "Airflow's [api] secret_key is empty; set AIRFLOW__API__SECRET_KEY (the same on every "
            "api-server) so MIP can sign OAuth states"
        )
    return hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: bytes, nonce: str, expires_at: datetime) -> str:
    payload = f"{VERSION}.{nonce}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(key, payload)}"


def verify(key: bytes, state: str, now: datetime | None = None) -> str:
    """The nonce of a well-signed, unexpired state; raises StateRefused otherwise."""
    parts = (state or "").split(".")
    if len(parts) != 4 or parts[0] != VERSION or not parts[2].isdigit():
        raise StateRefused(
            "malformed",
            "The state parameter of this callback is malformed: it was not issued by "
            "this MIP. Start the connection again from Multi-Channel > Marketplaces",
        )
    payload, nonce = ".".join(parts[:3]), parts[1]
    if not hmac.compare_digest(_signature(key, payload), parts[3]):
        raise StateRefused(
            "bad_signature",
            "The state parameter of this callback has an invalid signature (altered, "
            "or issued by another MIP). Nothing was stored; start again from Multi-Channel > "
            "Marketplaces",
            nonce,
        )
    if int(parts[2]) <= (now or datetime.now(UTC)).timestamp():
        raise StateRefused(
            "expired",
            f"This authorization request expired (they are valid for "
            f"{int(TTL.total_seconds() // 60)} minutes). Start again from Multi-Channel > Marketplaces",
            nonce,
        )
    return nonce


def issue(
    conn: psycopg.Connection,
    key: bytes,
    *,
    purpose: str,
    account_id: str,
    channel_id: str | None,
    seller_id: str,
    country: str,
    user_name: str,
    now: datetime | None = None,
    ttl: timedelta = TTL,
) -> str:
    """Record a new consent request and return its signed state (the caller commits)."""
    now = now or datetime.now(UTC)
    nonce = secrets.token_urlsafe(24)
    expires_at = now + ttl
    conn.execute(
        "INSERT INTO mip.marketplace_authorizations (nonce, purpose, account_id, channel_id, seller_id, country,"
        " user_name, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (nonce, purpose, account_id, channel_id, seller_id, country, user_name, now, expires_at),
    )
    # Requests nobody finished are kept a month for the audit, then dropped.
    conn.execute(
        "DELETE FROM mip.marketplace_authorizations WHERE used_at IS NULL AND expires_at < %s",
        (now - timedelta(days=30),),
    )
    return sign(key, nonce, expires_at)


def consume(
    conn: psycopg.Connection, key: bytes, state: str, user_name: str, now: datetime | None = None
) -> Authorization:
    """Check the state and mark it used (committed at once); raises StateRefused when it is not acceptable."""
    now = now or datetime.now(UTC)
    nonce = verify(key, state, now)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT * FROM mip.marketplace_authorizations WHERE nonce = %s", (nonce,)).fetchone()
        if row is None:
            raise StateRefused(
                "unknown",
                "This authorization request is unknown to MIP (it was never issued here, or "
                "its record was deleted). Start again from Multi-Channel > Marketplaces",
            )
        if row["used_at"] is not None:
            raise StateRefused(
                "replayed",
                "This authorization request was already used (a state works once: a "
                "reloaded or replayed callback is refused). Start again from Multi-Channel > "
                "Marketplaces if the connection is not shown as done.",
                nonce,
            )
        if row["expires_at"] <= now:
            raise StateRefused(
                "expired", "This authorization request expired. Start again from Multi-Channel > Marketplaces", nonce
            )
        if row["user_name"] != user_name:
            raise StateRefused(
                "other_user",
                f"This authorization request was started by another Airflow user "
                f"({row['user_name']}); sign in as that user or start again yourself",
                nonce,
            )
        claimed = cur.execute(
            "UPDATE mip.marketplace_authorizations SET used_at = %s WHERE nonce = %s AND used_at IS NULL"
            " RETURNING nonce",
            (now, nonce),
        ).fetchone()
        conn.commit()
    if claimed is None:  # another request consumed it between our SELECT and UPDATE
        raise StateRefused("replayed", "This authorization request was already used", nonce)
    return Authorization(
        nonce=row["nonce"],
        purpose=row["purpose"],
        account_id=row["account_id"],
        channel_id=row["channel_id"],
        seller_id=row["seller_id"],
        country=row["country"],
        user_name=row["user_name"],
        expires_at=row["expires_at"],
    )


def record_outcome(
    conn: psycopg.Connection,
    nonce: str,
    *,
    outcome: str,
    message: str,
    error_code: str | None = None,
    selling_partner_id: str | None = None,
) -> None:
    conn.execute(
        "UPDATE mip.marketplace_authorizations SET outcome = %s, message = %s, error_code = %s,"
        " selling_partner_id = %s WHERE nonce = %s",
        (outcome, message, error_code, selling_partner_id, nonce),
    )
    conn.commit()


MAX_REFUSALS = 50  # kept per row: a flood of replays must not grow it without bound


def record_refusal(
    conn: psycopg.Connection, nonce: str, *, reason: str, message: str, user_name: str, now: datetime | None = None
) -> bool:
    """Keep a refused callback on the row its state names: appended to ``refusals``, and as the outcome while
    nobody completed the request (a completed one keeps its outcome). False when no row has that nonce."""
    entry = json.dumps([{"at": (now or datetime.now(UTC)).isoformat(), "user": user_name, "reason": reason}])
    shown = json.dumps({"title": "Authorization refused", "message": message, "details": []})
    found = conn.execute(
        "UPDATE mip.marketplace_authorizations SET"
        " refusals = CASE WHEN jsonb_array_length(refusals) < %s THEN refusals || %s::jsonb ELSE refusals END,"
        " error_code = CASE WHEN outcome IN ('pending', 'refused') THEN %s ELSE error_code END,"
        " message = CASE WHEN outcome IN ('pending', 'refused') THEN %s ELSE message END,"
        " outcome = CASE WHEN outcome = 'pending' THEN 'refused' ELSE outcome END"
        " WHERE nonce = %s RETURNING nonce",
        (MAX_REFUSALS, entry, reason, shown, nonce),
    ).fetchone()
    conn.commit()
    return found is not None


def outcome_of(conn: psycopg.Connection, nonce: str, user_name: str) -> dict | None:
    """A finished request's outcome, shown after the redirect (only to the user who started it)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT nonce, purpose, account_id, channel_id, seller_id, country, outcome, error_code, message,"
            " selling_partner_id, used_at FROM mip.marketplace_authorizations WHERE nonce = %s AND user_name = %s"
            " AND outcome <> 'pending'",
            (nonce, user_name),
        ).fetchone()
