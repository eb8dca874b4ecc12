"""Request parameters parsed and checked against the operation's model definition.

Arrays accept Amazon's comma-separated form and repeated keys (python-amazon-sp-api sends both);
query parameters the operation does not define are ignored, as Amazon does (the client adds
``MarketplaceId``/``marketplace_ids`` to many calls).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sandbox.spapi.contract import Operation, Parameter, registry
from sandbox.spapi.errors import invalid_input


def _scalar(param: Parameter, spec: dict[str, Any], raw: str) -> Any:
    kind = spec.get("type", "string")
    if kind == "integer":
        try:
            value: Any = int(raw)
        except ValueError:
            raise invalid_input(f"Invalid value '{raw}' for parameter {param.name}: an integer is required.") from None
        if "minimum" in spec and value < spec["minimum"]:
            raise invalid_input(f"Invalid value {value} for parameter {param.name}: the minimum is {spec['minimum']}.")
        if "maximum" in spec and value > spec["maximum"]:
            raise invalid_input(f"Invalid value {value} for parameter {param.name}: the maximum is {spec['maximum']}.")
        return value
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise invalid_input(f"Invalid value '{raw}' for parameter {param.name}: true or false is required.")
        return raw.lower() == "true"
    if "enum" in spec and raw not in spec["enum"]:
        raise invalid_input(f"Invalid value '{raw}' for parameter {param.name}; allowed: {', '.join(spec['enum'])}.")
    return raw


def parse_query(op: Operation, query: Any) -> dict[str, Any]:
    """Typed values of the operation's query parameters present in ``query`` (a Starlette QueryParams)."""
    values: dict[str, Any] = {}
    for name, param in op.query_parameters.items():
        raw = query.getlist(name)
        if not raw:
            if param.required:
                raise invalid_input(f"Missing required parameter: {name}.")
            continue
        spec = param.spec
        if spec.get("type") == "array":
            items = [part.strip() for value in raw for part in value.split(",") if part.strip()]
            if not items and param.required:
                raise invalid_input(f"Missing required parameter: {name}.")
            if "maxItems" in spec and len(items) > spec["maxItems"]:
                raise invalid_input(f"Too many values for parameter {name}: at most {spec['maxItems']} are allowed.")
            values[name] = [_scalar(param, spec.get("items", {}), item) for item in items]
        else:
            values[name] = _scalar(param, spec, raw[-1])
    return values


@cache
def _body_validator(op_id: str, api: str):
    from jsonschema import Draft4Validator

    from sandbox.spapi.contract import _absolute_refs, operation

    param = operation(op_id).body_parameter
    if param is None or "schema" not in param.spec:
        return None
    return Draft4Validator(_absolute_refs(param.spec["schema"], f"urn:spapi:{api}"), registry=registry())


def parse_body(op: Operation, raw: bytes) -> Any:
    param = op.body_parameter
    if param is None:
        return None
    if not raw.strip():
        if param.required:
            raise invalid_input("The request body is required.")
        return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_input(f"The request body is not valid JSON: {exc}.") from None
    validator = _body_validator(op.operation_id, op.api)
    if validator is not None:
        error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "body"
            raise invalid_input(f"Invalid request body at '{where}': {error.message}.")
    return body
