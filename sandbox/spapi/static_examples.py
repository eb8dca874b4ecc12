"""Amazon's own sandbox examples (``x-amzn-api-sandbox`` / ``static`` in the models), served verbatim.

Two ways to reach them:

- on the normal endpoint, a request whose parameters equal an example that names at least one
  path or query parameter (``orderId=TEST_CASE_200``, ``sku=VALIDATION_INVALID``...) gets the
  example's response; examples that match on the body only, or on nothing, would shadow real
  calls and are left out there;
- under ``/static-sandbox`` (Amazon's static sandbox host), every request is answered from the
  examples only, and one that matches none gets Amazon's "no stub" 400.

A request matches when every parameter the example gives a value for is equal (typed as the
model says) and it sends no other query parameter the operation defines.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.spapi.contract import Operation


def _typed(spec: dict[str, Any], raw: list[str]) -> Any:
    if spec.get("type") == "array":
        items = [part for value in raw for part in value.split(",") if part]
        kind = spec.get("items", {}).get("type")
        return [int(i) if kind == "integer" and i.lstrip("-").isdigit() else i for i in items]
    value = raw[-1]
    if spec.get("type") == "integer" and value.lstrip("-").isdigit():
        return int(value)
    if spec.get("type") == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


_CACHE: dict[str, list[tuple[int, dict[str, Any], Any, bool]]] = {}


def _examples(op: Operation) -> list[tuple[int, dict[str, Any], Any, bool]]:
    if op.operation_id in _CACHE:
        return _CACHE[op.operation_id]
    found = []
    for status, params, response in op.static_examples():
        valued = {k: v for k, v in params.items() if isinstance(v, dict) and "value" in v}
        locations = {p.name: p.location for p in op.parameters}
        addressable = any(locations.get(name) in ("path", "query") for name in valued)
        found.append((status, params, response, addressable))
    found.sort(key=lambda e: -len([v for v in e[1].values() if isinstance(v, dict) and "value" in v]))
    _CACHE[op.operation_id] = found
    return found


def match(op: Operation, path: dict[str, str], query: Any, raw_body: bytes, everything: bool) -> tuple[int, Any] | None:
    """The (status, body) of the example this request matches, or None."""
    by_name = {p.name: p for p in op.parameters}
    body: Any = None
    if raw_body.strip():
        try:
            body = json.loads(raw_body)
        except ValueError:
            body = None
    for status, params, response, addressable in _examples(op):
        if not everything and not addressable:
            continue
        if _matches(params, by_name, path, query, body, op):
            return status, response
    return None


def _matches(params, by_name, path, query, body, op: Operation) -> bool:
    for name, spec in params.items():
        if not isinstance(spec, dict) or "value" not in spec:
            continue
        param = by_name.get(name)
        if param is None:
            return False
        if param.location == "path":
            if path.get(name) != spec["value"]:
                return False
        elif param.location == "query":
            raw = query.getlist(name)
            if not raw or _typed(param.spec, raw) != spec["value"]:
                return False
        elif param.location == "body" and body != spec["value"]:
            return False
    listed = set(params)
    return not any(query.getlist(name) for name in op.query_parameters if name not in listed)


NO_STUB = {
    "errors": [
        {
            "code": "InvalidInput",
            "message": "Could not match input arguments with any defined stubs in the static sandbox.",
            "details": "Use the parameters of one of the operation's x-amzn-api-sandbox examples.",
        }
    ]
}
