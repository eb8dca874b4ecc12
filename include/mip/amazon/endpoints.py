"""Which endpoint an account's connection may name.

An endpoint override redirects both SP-API and Login with Amazon (``mip.amazon.credentials``), so the
LWA client secret and the refresh token are sent to whatever host it names. It is therefore accepted
only as Amazon's SP-API host of the account's region over https (which means no override at all), or,
where the deployment runs the sandbox (``allow_sandbox``), as an http(s) URL on a loopback address or
on one of the ``sandbox_hosts`` the deployment names (e.g. ``sandbox`` in docker compose's profile).
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from mip.marketplaces import REGION_ENDPOINTS
from mip.sandbox_urls import is_sandbox_url


class EndpointRefused(ValueError):
    """The connection's endpoint is not one credentials may be sent to."""


def check_endpoint(
    endpoint: str | None, region: str, *, allow_sandbox: bool, sandbox_hosts: Collection[str] = ()
) -> str | None:
    """The endpoint to use: None for Amazon's (empty, or Amazon's regional URL), else the sandbox URL;
    ``EndpointRefused`` for anything else."""
    text = (endpoint or "").strip().rstrip("/")
    if not text:
        return None
    amazon = REGION_ENDPOINTS.get(region)
    if amazon is not None and text.lower() in (amazon, amazon + ":443"):
        return None
    parts = urlsplit(text)
    if allow_sandbox and not parts.path and is_sandbox_url(parts, sandbox_hosts):
        return text
    where = (
        "a sandbox on a loopback address" + (f" or on {', '.join(sorted(sandbox_hosts))}" if sandbox_hosts else "")
        if allow_sandbox
        else "no sandbox: this deployment does not allow one ([mip] allow_sandbox_endpoint)"
    )
    raise EndpointRefused(
        f"endpoint {text!r} is refused for region {region!r}: credentials are only sent to Amazon's SP-API endpoint of "
        f"the region ({amazon or 'unknown region'}; leave the field empty for it) or to {where}"
    )
