"""The ASGI application: ``/rest`` behind the API key, ``/_supplier`` admin routes."""

from __future__ import annotations

import hmac
from decimal import Decimal
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from sandbox.supplier import admin, api, errors
from sandbox.supplier.store import SupplierStore


class ApiKeyAuth(BaseHTTPMiddleware):
    """``/rest`` needs ``Authorization: Bearer <key>`` (BigBuy's scheme); a wrong key is a 401."""

    def __init__(self, app, api_key: str) -> None:
        super().__init__(app)
        self.expected = f"Bearer {api_key}".encode()

    async def dispatch(self, request: Request, call_next) -> Response:
        if request.url.path.startswith("/rest/"):
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self.expected):
                return errors.plain(401, 401, "Invalid credentials")
        return await call_next(request)


def create_app(
    state_dir: Path, *, api_key: str, time_scale: float = 1.0, handling_hours: float = 2.0, balance: str = "100000"
) -> Starlette:
    store = SupplierStore(state_dir, time_scale=time_scale, handling_hours=handling_hours, balance=Decimal(balance))
    app = Starlette(routes=[*api.routes(), *admin.routes()])
    app.add_middleware(ApiKeyAuth, api_key=api_key)
    app.state.supplier = store
    return app
