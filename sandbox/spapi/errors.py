"""SP-API error responses: ``{"errors": [{"code", "message", "details"}]}`` with an HTTP status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised anywhere while handling an SP-API call; becomes the Amazon-shaped error response."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": [error]}


def invalid_input(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def unauthorized(details: str) -> ApiError:
    return ApiError(403, "Unauthorized", "Access to requested resource is denied.", details)


def not_found(message: str, details: str | None = None) -> ApiError:
    return ApiError(404, "NotFound", message, details)


QUOTA_EXCEEDED = ApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
