"""The LWA token endpoint, ``POST /auth/o2/token`` (form-encoded), answering like api.amazon.com."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.spapi.auth import LwaError, Tokens

_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(exc: LwaError) -> JSONResponse:
    return JSONResponse(
        {"error_description": exc.description, "error": exc.error}, status_code=exc.status, headers=_HEADERS
    )


async def token_endpoint(request: Request) -> JSONResponse:
    tokens: Tokens = request.app.state.tokens
    form = await request.form()
    grant_type = form.get("grant_type")
    try:
        if not grant_type:
            raise LwaError(400, "invalid_request", "The request is missing a required parameter : grant_type")
        if grant_type not in ("refresh_token", "authorization_code", "client_credentials"):
            raise LwaError(
                400,
                "unsupported_grant_type",
                f"The authorization grant type {grant_type} is not supported by the sandbox's LWA "
                "(it serves refresh_token, authorization_code and client_credentials).",
            )
        tokens.check_client(form.get("client_id"), form.get("client_secret"))
        if grant_type == "client_credentials":
            body = tokens.grantless(str(form.get("scope") or ""))
        elif grant_type == "refresh_token":
            refresh_token = form.get("refresh_token")
            if not refresh_token:
                raise LwaError(400, "invalid_request", "The request is missing a required parameter : refresh_token")
            body = tokens.refresh(str(refresh_token))
        else:
            code = form.get("code")
            if not code:
                raise LwaError(400, "invalid_request", "The request is missing a required parameter : code")
            body = tokens.exchange_code(str(code))
    except LwaError as exc:
        return _error(exc)
    return JSONResponse(body, headers=_HEADERS)
