"""Login with Amazon as the sandbox plays it: refresh tokens, access tokens, consent codes.

- Access tokens live 3600 real seconds (not scaled: the client's token cache works in real time).
- Refresh tokens stay valid until revoked or until 365 days after the seller's authorization
  (``accounts.authorized_at``); revoking also kills the access tokens issued from them.
- Consent codes (``spapi_oauth_code``) are single-use and expire after 5 real minutes.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass

from sandbox.spapi.clock import DAY
from sandbox.spapi.errors import unauthorized
from sandbox.spapi.state import State

ACCESS_TOKEN_SECONDS = 3600
AUTHORIZATION_DAYS = 365
CODE_SECONDS = 300
_ALPHABET = string.ascii_letters + string.digits
GRANTLESS_SCOPE = "sellingpartnerapi::notifications"


class LwaError(Exception):
    """An LWA token endpoint error, answered as ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def invalid_grant(kind: str) -> LwaError:
    return LwaError(
        400,
        "invalid_grant",
        f"The request has an invalid grant parameter : {kind}. User may have revoked or didn't grant the permission.",
    )


@dataclass(frozen=True)
class AccessGrant:
    seller_id: str
    refresh_token: str
    expires_at: float


class Tokens:
    def __init__(self, state: State) -> None:
        self.state = state
        self._cache: dict[str, AccessGrant] = {}
        self._lock = threading.Lock()
        self._grantless: dict[str, float] = {}  # application token -> expiry

    # --- issuing ------------------------------------------------------------------------------
    def new_refresh_token(self, seller_id: str, token: str | None = None) -> str:
        """Issue a refresh token for a seller (as an authorization would) and record the authorization."""
        token = token or "Atzr|" + "".join(secrets.choice(_ALPHABET) for _ in range(80))
        now = self.state.clock.now()
        with self.state.db.tx() as conn:
            conn.execute("INSERT INTO refresh_tokens VALUES (?, ?, ?, NULL)", (token, seller_id, now))
            conn.execute("UPDATE accounts SET authorized_at = ? WHERE seller_id = ?", (now, seller_id))
        return token

    def new_code(self, seller_id: str, country: str, redirect_uri: str) -> str:
        code = "AN" + "".join(secrets.choice(_ALPHABET) for _ in range(18))
        with self.state.db.tx() as conn:
            conn.execute(
                "INSERT INTO auth_codes VALUES (?, ?, ?, NULL, ?, ?)",
                (code, seller_id, self.state.clock.now(), country, redirect_uri),
            )
        return code

    def _new_access_token(self, seller_id: str, refresh_token: str) -> dict:
        token = "Atza|" + "".join(secrets.choice(_ALPHABET) for _ in range(100))
        now = self.state.clock.now()
        expires = now + ACCESS_TOKEN_SECONDS
        with self.state.db.tx() as conn:
            conn.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?, ?)", (token, seller_id, refresh_token, now, expires)
            )
            conn.execute("DELETE FROM access_tokens WHERE expires_at < ?", (now - DAY,))
        with self._lock:
            self._cache[token] = AccessGrant(seller_id, refresh_token, expires)
        return {"access_token": token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS}

    # --- LWA grants ---------------------------------------------------------------------------
    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        app = self.state.app
        if client_id != app.client_id or client_secret != app.client_secret:
            raise LwaError(401, "invalid_client", "Client authentication failed")

    def refresh(self, refresh_token: str) -> dict:
        row = self.state.db.one(
            "SELECT r.seller_id, r.revoked_at, a.authorized_at FROM refresh_tokens r "
            "JOIN accounts a USING (seller_id) WHERE r.token = ?",
            (refresh_token,),
        )
        if row is None or row["revoked_at"] is not None:
            raise invalid_grant("refresh_token")
        authorized_at = row["authorized_at"] or 0
        if authorized_at + AUTHORIZATION_DAYS * DAY < self.state.clock.now():
            raise invalid_grant("refresh_token")
        return self._new_access_token(row["seller_id"], refresh_token)

    def exchange_code(self, code: str) -> dict:
        now = self.state.clock.now()
        with self.state.db.tx() as conn:
            row = conn.execute("SELECT * FROM auth_codes WHERE code = ?", (code,)).fetchone()
            if row is None or row["used_at"] is not None or row["issued_at"] + CODE_SECONDS < now:
                raise invalid_grant("code")
            conn.execute("UPDATE auth_codes SET used_at = ? WHERE code = ?", (now, code))
        refresh_token = self.new_refresh_token(row["seller_id"])
        return {**self._new_access_token(row["seller_id"], refresh_token), "refresh_token": refresh_token}

    def grantless(self, scope: str) -> dict:
        """An application token for grantless operations (``client_credentials``); kept in memory only."""
        if scope != GRANTLESS_SCOPE:
            raise LwaError(400, "invalid_scope", f"The sandbox grants the scope {GRANTLESS_SCOPE} only.")
        token = "Atc|" + "".join(secrets.choice(_ALPHABET) for _ in range(100))
        with self._lock:
            self._grantless[token] = self.state.clock.now() + ACCESS_TOKEN_SECONDS
        return {"access_token": token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS, "scope": scope}

    def check_grantless(self, token: str | None) -> None:
        """Raises the 403 Amazon answers a grantless operation called without a valid grantless token."""
        with self._lock:
            expires = self._grantless.get(token or "")
        if expires is None or expires <= self.state.clock.now():
            raise unauthorized("This operation is grantless: call it with a client_credentials access token.")

    def is_grantless(self, token: str | None) -> bool:
        with self._lock:
            return (token or "") in self._grantless

    # --- checking SP-API calls ----------------------------------------------------------------
    def check_access(self, token: str | None) -> str:
        """The seller of a valid access token; raises the 403 Amazon answers otherwise."""
        if not token:
            raise unauthorized("The request is missing the x-amz-access-token header.")
        with self._lock:
            grant = self._cache.get(token)
        if grant is None:
            row = self.state.db.one(
                "SELECT t.seller_id, t.refresh_token, t.expires_at FROM access_tokens t "
                "JOIN refresh_tokens r ON r.token = t.refresh_token WHERE t.token = ? AND r.revoked_at IS NULL",
                (token,),
            )
            if row is None:
                raise unauthorized("The access token you provided is revoked, malformed or invalid.")
            grant = AccessGrant(row["seller_id"], row["refresh_token"], row["expires_at"])
            with self._lock:
                self._cache[token] = grant
        if grant.expires_at <= self.state.clock.now():
            raise unauthorized("The access token you provided has expired.")
        return grant.seller_id

    # --- admin --------------------------------------------------------------------------------
    def revoke_seller(self, seller_id: str) -> int:
        with self.state.db.tx() as conn:
            count = conn.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE seller_id = ? AND revoked_at IS NULL",
                (self.state.clock.now(), seller_id),
            ).rowcount
        with self._lock:
            self._cache = {t: g for t, g in self._cache.items() if g.seller_id != seller_id}
        return count

    def expire_access_tokens(self, seller_id: str) -> None:
        """Make the seller's current access tokens expired (for tests of the "expired" answer)."""
        now = self.state.clock.now()
        with self.state.db.tx() as conn:
            conn.execute(
                "UPDATE access_tokens SET expires_at = ? WHERE seller_id = ? AND expires_at > ?",
                (now - 1, seller_id, now),
            )
        with self._lock:
            self._cache = {t: g for t, g in self._cache.items() if g.seller_id != seller_id}

    def current_refresh_token(self, seller_id: str) -> tuple[str | None, str]:
        """The newest refresh token of a seller and its status: valid, revoked or expired."""
        row = self.state.db.one(
            "SELECT r.token, r.revoked_at, a.authorized_at FROM refresh_tokens r JOIN accounts a USING (seller_id) "
            "WHERE r.seller_id = ? ORDER BY r.issued_at DESC, r.rowid DESC LIMIT 1",
            (seller_id,),
        )
        if row is None:
            return None, "none"
        if row["revoked_at"] is not None:
            return row["token"], "revoked"
        if (row["authorized_at"] or 0) + AUTHORIZATION_DAYS * DAY < self.state.clock.now():
            return row["token"], "expired"
        return row["token"], "valid"
