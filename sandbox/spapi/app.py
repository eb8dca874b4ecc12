"""The ASGI application: LWA, consent, documents, admin, and the SP-API operations of the models.

Every SP-API request goes through the same steps, in Amazon's order: route to a model operation,
wait while the operation is held (the ``hold`` fault), check the access token (403), count the call,
apply the throttling-storm and 5xx faults and the usage plan (429), answer Amazon's static examples,
parse parameters and body against the model (400), run the handler. Every SP-API response carries
``x-amzn-RateLimit-Limit`` (the effective rate, rate x time scale) and ``x-amzn-RequestId``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.spapi import admin, consent, documents, lwa, shipments, static_examples
from sandbox.spapi.auth import Tokens
from sandbox.spapi.bootstrap import bootstrap
from sandbox.spapi.call import Call
from sandbox.spapi.contract import Router, operations, response_errors
from sandbox.spapi.errors import QUOTA_EXCEEDED, ApiError
from sandbox.spapi.feeds.api import HANDLERS as FEEDS
from sandbox.spapi.listings.api import HANDLERS as LISTINGS
from sandbox.spapi.notifications import api as notifications
from sandbox.spapi.orders.api import HANDLERS as ORDERS
from sandbox.spapi.params import parse_body, parse_query
from sandbox.spapi.ratelimit import header_value
from sandbox.spapi.reports.api import HANDLERS as REPORTS
from sandbox.spapi.sellers import HANDLERS as SELLERS
from sandbox.spapi.shipments import HANDLERS as SHIPMENTS
from sandbox.spapi.state import Settings, State
from sandbox.spapi.worker import Worker

log = logging.getLogger("sandbox.spapi")
HANDLERS = {**SELLERS, **ORDERS, **LISTINGS, **FEEDS, **REPORTS, **SHIPMENTS, **notifications.HANDLERS}
STATIC_PREFIX = "/static-sandbox"
MAX_UPLOAD = 100 * 1024 * 1024


class SpApi:
    def __init__(self, state: State, tokens: Tokens) -> None:
        self.state = state
        self.tokens = tokens
        self.router = Router(operations())

    def _respond(self, op, seller_id: str | None, status: int, body: Any, rate: float | None) -> Response:
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if rate is not None:
            headers["x-amzn-RateLimit-Limit"] = header_value(rate)
        self.state.stats.record(op.operation_id if op else "unknown", seller_id, status)
        if op is not None and self.state.settings.validate_responses:
            for problem in response_errors(op, status, body):
                self.state.stats.violation(problem)
        if status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    async def _held(self, operation_id: str) -> str:
        """Wait while ``operation_id`` is held; the release's outcome (``proceed`` when not held)."""
        ticket = self.state.faults.hold_ticket(operation_id)
        if ticket is None:
            return "proceed"
        while (outcome := self.state.faults.outcome(ticket)) is None:
            await asyncio.sleep(0.02)
        return outcome

    def _caller(self, operation_id: str, token: str | None, static_only: bool = False) -> str | None:
        """The seller of the access token; None for an application (grantless) token where Amazon takes one.
        The static examples (``/static-sandbox``) take either token."""
        if operation_id in notifications.GRANTLESS and not (static_only and not self.tokens.is_grantless(token)):
            self.tokens.check_grantless(token)
            return None
        if operation_id in notifications.EITHER and self.tokens.is_grantless(token):
            self.tokens.check_grantless(token)
            return None
        return self.tokens.check_access(token)

    async def handle(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("?", 1)[0]
        static_only = raw_path.startswith(STATIC_PREFIX + "/")
        if static_only:
            raw_path = raw_path[len(STATIC_PREFIX) :]
        found = self.router.match(request.method, raw_path)
        if found is None:
            message = "Method not allowed." if self.router.path_exists(raw_path) else "Resource not found."
            return self._respond(None, None, 404, _errors("NotFound", message, f"{request.method} {raw_path}"), None)
        op, path_params = found
        if op.operation_id not in HANDLERS and not static_only:
            body = _errors("NotFound", "Resource not found.", f"The sandbox does not serve {op.operation_id}.")
            return self._respond(op, None, 404, body, None)
        state = self.state
        rate = state.limiter.effective_rate(op.rate)
        if await self._held(op.operation_id) == "drop":
            body = _errors("ServiceUnavailable", "Service temporarily unavailable. Please try again.")
            return self._respond(op, None, 503, body, rate)
        try:
            access_token = request.headers.get("x-amz-access-token")
            seller_id = state.rdts.seller_of(access_token) or self._caller(op.operation_id, access_token, static_only)
        except ApiError as exc:
            return self._respond(op, None, exc.status, exc.body(), rate)
        faults = state.faults.current
        throttled = state.faults.roll(faults.throttle_fraction)
        if throttled or not state.limiter.take(seller_id or "application", op.operation_id, op.rate, op.burst):
            return self._respond(op, seller_id, 429, QUOTA_EXCEEDED.body(), rate)
        if state.faults.roll(faults.error_5xx_rate):
            if state.faults.roll(0.5):
                body = _errors("InternalFailure", "We encountered an internal error. Please try again.")
                return self._respond(op, seller_id, 500, body, rate)
            body = _errors("ServiceUnavailable", "Service temporarily unavailable. Please try again.")
            return self._respond(op, seller_id, 503, body, rate)
        raw_body = await request.body()
        example = static_examples.match(op, path_params, request.query_params, raw_body, everything=static_only)
        if example is not None:
            return self._respond(op, seller_id, example[0], example[1], rate)
        if static_only:
            return self._respond(op, seller_id, 400, static_examples.NO_STUB, rate)
        try:
            account = state.db.one("SELECT region FROM accounts WHERE seller_id = ?", (seller_id,)) or {"region": None}
            query = parse_query(op, request.query_params)
            call = Call(
                state,
                self.tokens,
                op,
                path_params,
                query,
                parse_body(op, raw_body),
                seller_id,
                account["region"],
                access_token,
            )
            status, body = HANDLERS[op.operation_id](call)
        except ApiError as exc:
            return self._respond(op, seller_id, exc.status, exc.body(), rate)
        except Exception:
            log.exception("%s failed", op.operation_id)
            body = _errors("InternalFailure", "The sandbox failed to handle the request; see its log.")
            return self._respond(op, seller_id, 500, body, rate)
        return self._respond(op, seller_id, status, body, rate)


def _errors(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


async def upload_document(request: Request) -> Response:
    state: State = request.app.state.sandbox
    doc_id = request.path_params["doc_id"]
    problem = documents.check_signature(
        state, "upload", doc_id, request.query_params.get("expires"), request.query_params.get("signature")
    )
    if problem:
        return Response(
            documents.s3_error(problem, "The request signature is invalid or the URL expired."),
            status_code=403,
            media_type="application/xml",
        )
    content = await request.body()
    if len(content) > MAX_UPLOAD:
        return Response(
            documents.s3_error("EntityTooLarge", "The upload exceeds the sandbox's 100 MiB limit."),
            status_code=400,
            media_type="application/xml",
        )
    if not documents.upload(state, doc_id, content, request.headers.get("content-type")):
        return Response(
            documents.s3_error("NoSuchKey", "The document does not exist."),
            status_code=404,
            media_type="application/xml",
        )
    return Response(status_code=200, headers={"ETag": f'"{uuid.uuid4().hex}"'})


async def download_document(request: Request) -> Response:
    state: State = request.app.state.sandbox
    doc_id = request.path_params["doc_id"]
    problem = documents.check_signature(
        state, "download", doc_id, request.query_params.get("expires"), request.query_params.get("signature")
    )
    if problem:
        return Response(
            documents.s3_error(problem, "The request signature is invalid or the URL expired."),
            status_code=403,
            media_type="application/xml",
        )
    doc = documents.load(state, doc_id)
    if doc is None or doc["content"] is None:
        return Response(
            documents.s3_error("NoSuchKey", "The document does not exist."),
            status_code=404,
            media_type="application/xml",
        )
    return Response(bytes(doc["content"]), headers={"Content-Type": doc["content_type"] or "application/octet-stream"})


def create_app(settings: Settings) -> Starlette:
    state = State(settings)
    shipments.install(state)
    tokens = Tokens(state)
    bootstrap(state, tokens, settings.demo)
    worker = Worker(state)
    spapi = SpApi(state, tokens)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            worker.join(timeout=10)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            Route("/auth/o2/token", lwa.token_endpoint, methods=["POST"]),
            Route("/apps/authorize/consent", consent.consent_page, methods=["GET", "POST"]),
            Route("/_documents/upload/{doc_id}", upload_document, methods=["PUT"]),
            Route("/_documents/download/{doc_id}", download_document, methods=["GET"]),
            *admin.routes(),
            *shipments.admin_routes(),
            Route("/{path:path}", spapi.handle, methods=methods),
        ],
        lifespan=lifespan,
    )
    app.state.sandbox = state
    app.state.tokens = tokens
    app.state.worker = worker
    return app
