"""The one place MIP talks to SP-API: clients built from an account's credentials, every call
through the shared rate budget, retried when a retry can help, errors mapped to what a user can do.

    gateway = SpApiGateway(credentials, budget)
    orders = gateway.client(Orders, "IT")
    page = gateway.call("getOrders", lambda: orders.get_orders(LastUpdatedAfter=...), country="IT")

Retries: 429, 5xx, LWA 5xx and network errors/timeouts, under ``mip.amazon.retry.RetryPolicy``
(exponential backoff with full jitter, bounded by ``max_attempts`` and ``max_elapsed``). An access
token Amazon calls expired or invalid is dropped from the library's cache and fetched again once (the
library caches tokens for 3200 s whatever their lifetime). Credential and configuration errors are raised at once.

python-amazon-sp-api 2.x quirks handled here: it raises only when the body has ``errors``; its token
cache is module level, keyed by refresh token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mip.amazon import errors
from mip.amazon.budget import BudgetExhausted, RateBudget
from mip.amazon.credentials import AccountCredentials, token_client_class
from mip.amazon.retry import Retry, RetryPolicy

log = logging.getLogger(__name__)
# The API versions MIP uses where the library's versioned clients could pick another.
API_VERSIONS = {"ListingsItems": {"version": "2021-08-01"}}
# Operations whose path carries the seller id: a 403 there usually means the wrong Seller ID.
SELLER_SCOPED = {"getListingsItem", "putListingsItem", "patchListingsItem", "deleteListingsItem", "searchListingsItems"}


class _Retry(Retry):
    """A failure worth another attempt; ``throttled`` (429) also slows the account's rate budget."""

    def __init__(self, reason: str, final: errors.AmazonError, throttled: bool = False):
        super().__init__(reason, final)
        self.throttled = throttled


class SpApiGateway:
    def __init__(self, credentials: AccountCredentials, budget: RateBudget | None, policy: RetryPolicy | None = None):
        self.credentials = credentials
        self.budget = budget
        self.policy = policy or RetryPolicy()
        self._clients: dict[tuple[Callable[..., Any], str], Any] = {}
        self.calls = 0
        self.retries = 0
        # wall seconds waited for Amazon's usage plans (rate budget, back-off after 429/5xx), and in requests
        self.waited_seconds = 0.0
        self.request_seconds = 0.0

    @property
    def account(self) -> str:
        return self.credentials.account_id

    def client(self, api: Callable[..., Any], country: str) -> Any:
        """A python-amazon-sp-api client of ``api`` for the marketplace of ``country`` (cached)."""
        key = (api, country)
        if key not in self._clients:
            from sp_api.base import Marketplaces

            creds = self.credentials
            instance = api(
                marketplace=Marketplaces[country],
                refresh_token=creds.refresh_token,
                credentials=creds.library_credentials(),
                auth_token_client_class=token_client_class(creds.lwa_base_url),
                timeout=self.policy.timeout,
                **API_VERSIONS.get(api.__name__, {}),
            )
            instance.endpoint = creds.sp_api_endpoint
            self._clients[key] = instance
        return self._clients[key]

    def ready(self, operation: str) -> bool:
        """True when a call of ``operation`` would not wait for the rate budget."""
        return self.budget is None or self.budget.ready(operation)

    def call(self, operation: str, request: Callable[[], Any], *, country: str | None = None) -> Any:
        """Run ``request`` (one SP-API call of ``operation``) under the budget, with the retry policy."""
        token_refreshed = False

        def attempt() -> Any:
            nonlocal token_refreshed
            while True:
                try:
                    return self._send(operation, request)
                except Exception as exc:  # classified: re-raised, retried or mapped, never swallowed
                    outcome = self._classify(exc, operation, country, token_refreshed)
                if outcome is not None:
                    if outcome.throttled and self.budget is not None:
                        self.budget.throttled(operation)
                    raise outcome
                self._forget_access_token()  # once per call, outside the retry count
                token_refreshed = True

        def waiting(failure: Retry, failed: int, delay: float) -> None:
            self.retries += 1
            self.waited_seconds += delay
            log.warning("%s for account %s: %s; retry %d in %.1f s", operation, self.account, failure, failed, delay)

        return self.policy.run(attempt, on_retry=waiting)

    def _send(self, operation: str, request: Callable[[], Any]) -> Any:
        """One request under the rate budget; Amazon's rate headers feed the budget either way."""
        if self.budget is not None:
            try:
                self.waited_seconds += self.budget.acquire(operation)
            except BudgetExhausted as exc:
                raise errors.Throttled(self.account, operation, str(exc)) from None
        self.calls += 1
        sent = time.monotonic()
        try:
            response = request()
        except Exception as exc:
            self.request_seconds += time.monotonic() - sent
            if self.budget is not None:
                self.budget.observe(operation, getattr(exc, "headers", None))
            raise
        self.request_seconds += time.monotonic() - sent
        if self.budget is not None:
            self.budget.observe(operation, getattr(response, "headers", None))
        return response

    def _forget_access_token(self) -> None:
        from sp_api.auth._core import build_cache_key
        from sp_api.auth.access_token_client import cache

        cache.pop(build_cache_key(self.credentials.refresh_token), None)

    def _classify(self, exc: Exception, operation: str, country: str | None, token_refreshed: bool) -> _Retry | None:
        """Raise the user-facing error, or return a _Retry, or None to fetch a new access token."""
        import httpx
        from sp_api.auth.exceptions import AuthorizationError
        from sp_api.base import exceptions as sp

        account = self.account
        if isinstance(exc, AuthorizationError):
            detail = f"{exc.error_code}: {exc.message}"
            if exc.error_code == "invalid_grant":
                raise errors.CredentialsInvalid(account, exc.message) from None
            if exc.error_code in ("invalid_client", "unauthorized_client"):
                raise errors.ApplicationCredentialsInvalid(account, detail) from None
            if exc.status_code and exc.status_code >= 500:
                return _Retry(f"LWA answered {exc.status_code}", errors.AmazonUnavailable(account, "LWA", detail))
            raise errors.AccessDenied(account, detail) from None
        if isinstance(exc, httpx.TransportError):
            return _Retry(type(exc).__name__, errors.AmazonUnavailable(account, operation, repr(exc)))
        if not isinstance(exc, sp.SellingApiException):
            raise exc
        message = _amazon_message(exc)
        if isinstance(exc, sp.SellingApiRequestThrottledException):
            return _Retry("throttled (429)", errors.Throttled(account, operation, message), throttled=True)
        if (
            isinstance(
                exc,
                sp.SellingApiServerException
                | sp.SellingApiTemporarilyUnavailableException
                | sp.SellingApiGatewayTimeoutException,
            )
            or getattr(exc, "code", 0) >= 500
        ):
            return _Retry(f"Amazon error {exc.code}", errors.AmazonUnavailable(account, operation, message))
        if isinstance(exc, sp.SellingApiForbiddenException):
            token_problem = "access token" in message.lower()
            if token_problem and not token_refreshed:
                return None
            if operation in SELLER_SCOPED or "seller" in message.lower():
                raise errors.SellerIdMismatch(account, self.credentials.seller_id, message) from None
            raise errors.AccessDenied(account, message) from None
        if isinstance(exc, sp.SellingApiBadRequestException) and "marketplace" in message.lower():
            raise errors.MarketplaceNotParticipating(account, country or "?", message) from None
        raise errors.AmazonRequestRejected(account, operation, exc.code, message) from None


def _amazon_message(exc: Exception) -> str:
    """``code: message (details)`` of the first error Amazon returned."""
    error = (getattr(exc, "error", None) or [{}])[0]
    text = f"{error.get('code', '?')}: {error.get('message', '')}"
    return f"{text} ({error['details']})" if error.get("details") else text
