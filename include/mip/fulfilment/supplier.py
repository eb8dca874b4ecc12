"""The supplier's order API through pybigbuy (``bigbuy.BigBuy``), pointed at ``base_url``.

Errors become what the loop acts on: ``Refused`` (reason + fix: balance, stock, address, unknown
reference), ``Unavailable`` (5xx, timeouts, rate limit, network; after retries). ``create`` never makes a
second order: the supplier refuses a known reference (ER008, its order id in the answer) and after any
failed create the order is looked up by reference before another attempt. The API key is never logged:
pybigbuy's client (whose repr shows part of the key) and its exceptions (which hold the request) are never
formatted into a message; messages carry the supplier's text only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mip.sandbox_urls import is_sandbox_url

log = logging.getLogger(__name__)
T = TypeVar("T")
BIGBUY_URLS = ("https://api.bigbuy.eu/rest", "https://api.sandbox.bigbuy.eu/rest")

FIX_BALANCE = "top up the supplier's prepaid balance (BigBuy purse); the order is retried on every run"
FIX_STOCK = (
    "the supplier has no stock of a product: wait for stock (retried on every run) or cancel the order on Amazon"
)
FIX_ADDRESS = (
    "the supplier refused the shipping address: check it with the buyer, then cancel the order on Amazon or ship it "
    "by hand; it is not retried"
)
FIX_REFERENCE = "the supplier does not know a product reference: correct the SKU's supplier reference, then re-gate"


class SupplierUrlRefused(ValueError):
    """The connection names a base URL the API key may not be sent to."""


class Refused(Exception):
    def __init__(self, reason: str, fix: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.fix, self.detail = reason, fix, detail


class Unavailable(Exception):
    """The supplier did not answer usefully after the retries (5xx, timeouts, rate limit, network)."""


def check_base_url(url: str | None, *, allow_sandbox: bool, sandbox_hosts: tuple[str, ...] = ()) -> str:
    """BigBuy's API (production or sandbox) over https, or, where the deployment allows a sandbox, an http(s)
    URL ending in /rest on a loopback address or a named sandbox host; ``SupplierUrlRefused`` otherwise."""
    text = (url or BIGBUY_URLS[0]).strip().rstrip("/")
    if text.lower() in BIGBUY_URLS:
        return text
    parts = urlsplit(text)
    if allow_sandbox and parts.path == "/rest" and is_sandbox_url(parts, sandbox_hosts):
        return text
    raise SupplierUrlRefused(
        f"supplier base URL {text!r} is refused: the API key is only sent to {' or '.join(BIGBUY_URLS)}"
        + (" or to a stand-in on a loopback address (http://127.0.0.1:PORT/rest)" if allow_sandbox else "")
    )


@dataclass
class SupplierClient:
    base_url: str
    api_key: str = field(repr=False)
    attempts: int = 4
    base_delay: float = 1.0
    timeout: float = 30.0
    calls: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from bigbuy import BigBuy

        self._client = BigBuy(self.api_key, timeout=self.timeout)
        self._client.base_url = self.base_url.rstrip("/")

    def _call(self, name: str, request: Callable[[], T], *, retry: bool = True) -> T:
        from bigbuy import exceptions as bb
        from requests import RequestException

        attempt = 0
        while True:
            self.calls[name] = self.calls.get(name, 0) + 1
            try:
                return request()
            except (bb.BBServerError, bb.BBRateLimitError, RequestException) as exc:
                attempt += 1
                problem = getattr(exc, "text", None) or type(exc).__name__
                if not retry or attempt >= self.attempts:
                    raise Unavailable(f"supplier {name}: {problem}") from None
                delay = random.uniform(0, self.base_delay * 2**attempt)
                log.warning("supplier %s: %s; retry %d in %.1f s", name, problem, attempt, delay)
                time.sleep(delay)
            except bb.BBResponseError as exc:
                raise _refusal(exc) from None

    def check(self, order: dict[str, Any]) -> Decimal:
        return Decimal(str(self._call("check_order", lambda: self._client.check_order(order))["total"]))

    def find(self, reference: str) -> str | None:
        """The supplier's order id for the seller's reference, None when it has none."""
        from bigbuy.exceptions import BBResponseError

        def lookup() -> str | None:
            try:
                found = self._client.get_order_by_customer_reference(reference)
            except BBResponseError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    return None
                raise
            return str(found["id"]) if found else None

        return self._call("get_order_by_customer_reference", lookup)

    def create(self, order: dict[str, Any]) -> tuple[str, bool]:
        """(supplier order id, adopted): adopted when the supplier already had the reference."""
        reference = order["internalReference"]
        for attempt in range(1, self.attempts + 1):
            try:
                return self._call("create_order", lambda: self._client.create_order_id(order), retry=False), False
            except Refused as exc:
                if exc.reason == "duplicate":
                    return exc.detail, True
                raise
            except Unavailable as exc:
                existing = self.find(reference)
                if existing is not None:
                    log.info("order %s: the supplier has it (%s) after %s", reference, existing, exc)
                    return existing, True
                if attempt == self.attempts:
                    raise
                time.sleep(random.uniform(0, self.base_delay * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def trackings(self, order_ids: list[str]) -> dict[str, dict[str, str]]:
        """supplier order id -> {carrier, tracking_number, ship_date} for the orders that have tracking."""
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(order_ids), 100):
            chunk = order_ids[start : start + 100]
            answers = self._call("get_tracking_orders", partial(self._client.get_tracking_orders, chunk))
            for order_id, answer in zip(chunk, answers, strict=True):
                if answer and answer.get("trackings"):
                    tracking: dict[str, Any] = dict(answer["trackings"][0])
                    found[order_id] = {
                        "carrier": tracking["carrier"]["name"],
                        "tracking_number": tracking["trackingNumber"],
                        "ship_date": tracking["statusDate"],
                    }
        return found


def _refusal(exc: Any) -> Refused:
    from bigbuy import exceptions as bb

    text = getattr(exc, "text", "") or type(exc).__name__
    if isinstance(exc, bb.BBOrderAlreadyExistsError):
        data = exc.bb_data if isinstance(exc.bb_data, dict) else {}
        return Refused("duplicate", "", str(data.get("orderId")))
    if isinstance(exc, bb.BBMoneyBoxTooLowError):
        return Refused("balance", FIX_BALANCE, text)
    if isinstance(exc, bb.BBStockError):
        return Refused("stock", FIX_STOCK, f"{text} ({', '.join(exc.skus)})")
    if isinstance(exc, bb.BBProductNotFoundError | bb.BBIncorrectRefError):
        return Refused("unknown_reference", FIX_REFERENCE, text)
    if isinstance(exc, bb.BBZipcodeFormatError | bb.BBShippingError):
        return Refused("address", FIX_ADDRESS, text)
    if isinstance(exc, bb.BBValidationError):
        fields = ", ".join(sorted(exc.error_fields)) if isinstance(exc.error_fields, dict) else str(exc.error_fields)
        if "shippingAddress" in fields:
            return Refused("address", FIX_ADDRESS, f"invalid {fields}")
        return Refused("rejected", "the supplier rejected the order; see the detail", f"invalid {fields}")
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return Refused("credentials", "fix the supplier API key in the bigbuy connection (Admin > Connections)", text)
    return Refused("rejected", "the supplier rejected the order; see the detail", f"{status}: {text}")
