"""Is a URL a local stand-in's (the SP-API sandbox, the supplier stand-in, the SQS server)?

Credentials go to Amazon (or BigBuy) only, except where the deployment allows a sandbox: then an http(s) URL
on a loopback address, or on one of the host names the deployment names (``sandbox`` in docker compose),
without user info, query or fragment. One rule for the SP-API endpoint (``mip.amazon.endpoints``), the
supplier's base URL (``mip.fulfilment.supplier``) and the order-events queue (``mip.orders.queue``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import SplitResult


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_sandbox_url(parts: SplitResult, sandbox_hosts: Collection[str] = ()) -> bool:
    """``parts`` (``urlsplit`` of the URL) names a sandbox host over http(s), with no user info, query or
    fragment; its path is the caller's to check."""
    try:
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    clean = not (parts.username or parts.password or parts.query or parts.fragment)
    named = host in {h.lower() for h in sandbox_hosts}
    return parts.scheme in ("http", "https") and clean and bool(host) and (is_loopback(host) or named)
