"""BigBuy's error answers, in the shapes pybigbuy's ``raise_for_response`` parses into its exception classes."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

GATEWAY_TIMEOUT_PAGE = "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>"


def coded(status: int, code: str, info: str, data: Any) -> Response:
    """``{"code": "ER00x", "message": "{\\"info\\": ..., \\"data\\": ...}"}`` (BigBuy nests JSON in the message)."""
    return JSONResponse({"code": code, "message": json.dumps({"info": info, "data": data})}, status_code=status)


def plain(status: int, code: int | str, message: str) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def validation_failed(fields: dict[str, list[str]]) -> Response:
    """BigBuy's form validation answer: errors.children.<field>[.children.<sub>].errors."""
    children: dict[str, Any] = {}
    for name, messages in fields.items():
        head, _, tail = name.partition(".")
        if tail:
            children.setdefault(head, {"children": {}})["children"][tail] = {"errors": messages}
        else:
            children[head] = {"errors": messages}
    return JSONResponse(
        {"code": 400, "message": "Validation Failed", "errors": {"children": children}}, status_code=400
    )


def server_error() -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


def gateway_timeout() -> Response:
    return Response(GATEWAY_TIMEOUT_PAGE, status_code=504, media_type="text/html")
