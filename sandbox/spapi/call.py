"""One SP-API call as handlers see it: the operation, typed parameters, body and the caller's seller."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sandbox.spapi.auth import Tokens
from sandbox.spapi.contract import Operation
from sandbox.spapi.errors import invalid_input, unauthorized
from sandbox.spapi.state import State


@dataclass
class Call:
    state: State
    tokens: Tokens
    op: Operation
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    seller_id: str
    region: str
    access_token: str | None = None  # restricted operations check it is an RDT for their resource

    def require_own_seller(self) -> None:
        """Listings paths carry a sellerId; it must be the seller of the access token."""
        requested = self.path.get("sellerId")
        if requested != self.seller_id:
            raise unauthorized(
                f"The sellerId '{requested}' in the request path does not match the selling partner of the access "
                f"token ('{self.seller_id}'); use the Seller ID (merchant token) of the authorized account."
            )


def encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, parameter: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, UnicodeDecodeError):
        raise invalid_input(f"Invalid {parameter}: the token was not issued by this API.") from None
