"""An account's SP-API credentials and the python-amazon-sp-api pieces built from them.

Production: SP-API at the region's endpoint (``sellingpartnerapi-eu.amazon.com``...), LWA at
``https://api.amazon.com``. An ``endpoint`` override (the sandbox) redirects both: the library's
endpoint is an instance attribute of each client, and its LWA host comes from
``auth_token_client_class``, so a subclass of ``AccessTokenClient`` with another scheme and host
points token refreshes there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from mip.marketplaces import LWA_HOST, REGION_ENDPOINTS


@dataclass(frozen=True)
class AccountCredentials:
    account_id: str
    seller_id: str
    region: str
    lwa_client_id: str
    lwa_client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    authorized_at: datetime | None = None
    endpoint: str | None = None  # SP-API endpoint override (the sandbox); None = Amazon's regional endpoint

    @property
    def sp_api_endpoint(self) -> str:
        return (self.endpoint or REGION_ENDPOINTS[self.region]).rstrip("/")

    @property
    def lwa_base_url(self) -> str:
        return (self.endpoint or f"https://{LWA_HOST}").rstrip("/")

    def authorization_age_days(self, now: datetime | None = None) -> int | None:
        if self.authorized_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.authorized_at).days

    def library_credentials(self) -> dict[str, str]:
        return {"lwa_app_id": self.lwa_client_id, "lwa_client_secret": self.lwa_client_secret}


@cache
def token_client_class(lwa_base_url: str) -> type:
    """An ``AccessTokenClient`` subclass that talks to ``lwa_base_url`` (cached per URL)."""
    from sp_api.auth import AccessTokenClient

    if lwa_base_url == f"https://{LWA_HOST}":
        return AccessTokenClient
    parts = urlsplit(lwa_base_url)
    return type(
        "RedirectedAccessTokenClient",
        (AccessTokenClient,),
        {"scheme": f"{parts.scheme}://", "host": parts.netloc},
    )


def parse_authorization_date(value: str | datetime | None) -> datetime | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
