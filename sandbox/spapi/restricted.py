"""Restricted Data Tokens (Tokens API 2021-03-01): short-lived access tokens for named PII resources.

``createRestrictedDataToken`` (with a normal LWA access token) returns an RDT bound to the seller and
to the restricted resources asked for (method + path). Restricted operations (getOrderAddress) accept
only an RDT covering their method and path; a normal access token gets Amazon's 403.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.spapi.errors import invalid_input, unauthorized

RDT_SECONDS = 3600
PREFIX = "Atz.sprdt|"
# restricted operations the sandbox serves: (method, path pattern)
RESTRICTED = (("GET", re.compile(r"^/orders/v0/orders/[^/]+/address$")),)


@dataclass(frozen=True)
class Grant:
    seller_id: str
    resources: frozenset[tuple[str, str]]
    expires_at: float


class RestrictedTokens:
    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, seller_id: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
        if not resources or len(resources) > 50:
            raise invalid_input("restrictedResources must list 1 to 50 resources.")
        wanted = set()
        for resource in resources:
            method, path = str(resource.get("method", "")).upper(), str(resource.get("path", ""))
            if not any(method == m and pattern.match(path) for m, pattern in RESTRICTED):
                raise invalid_input(f"{method} {path} is not a restricted resource the sandbox serves.")
            wanted.add((method, path))
        token = PREFIX + secrets.token_urlsafe(48)
        now = time.time()
        with self._lock:
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
            self._grants[token] = Grant(seller_id, frozenset(wanted), now + RDT_SECONDS)
            self.issued += 1
        return {"restrictedDataToken": token, "expiresIn": RDT_SECONDS}

    def seller_of(self, token: str | None) -> str | None:
        """The seller of a valid RDT; None when ``token`` is not an RDT (a normal token is checked elsewhere)."""
        if not token or not token.startswith(PREFIX):
            return None
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires_at <= time.time():
            raise unauthorized("The Restricted Data Token you provided is expired, malformed or invalid.")
        return grant.seller_id

    def require(self, token: str | None, method: str, path: str) -> None:
        """Restricted operations: the call's token must be an RDT for exactly this method and path."""
        grant = self._grants.get(token or "")
        if grant is None or (method, path) not in grant.resources:
            raise unauthorized(
                f"{method} {path} is a restricted operation: call it with a Restricted Data Token for this resource "
                "(Tokens API createRestrictedDataToken)."
            )
