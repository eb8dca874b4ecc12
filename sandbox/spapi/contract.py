"""The official SP-API models as data: operations, parameters, usage plans, schemas, static examples.

Everything the sandbox claims about Amazon's interface comes from the model files copied into
``sandbox/amazon_models`` (see its README), so routes, parameter types, rate/burst and response
shapes cannot drift from the contract.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MODELS_DIR = Path(__file__).resolve().parents[1] / "amazon_models"
API_FILES = (
    "sellers.json",
    "ordersV0.json",
    "listingsItems_2021-08-01.json",
    "feeds_2021-06-30.json",
    "reports_2021-06-30.json",
    "tokens_2021-03-01.json",
    "notifications.json",
)
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_USAGE_PLAN = re.compile(r"\|\s*([0-9]*\.?[0-9]+)\s*\|\s*([0-9]+)\s*\|")
_PATH_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | body | header
    required: bool
    spec: dict[str, Any]

    @property
    def type(self) -> str | None:
        return self.spec.get("type")


@dataclass
class Operation:
    api: str  # model file stem, e.g. "ordersV0"
    operation_id: str
    method: str
    path: str
    rate: float
    burst: int
    parameters: list[Parameter]
    responses: dict[str, dict[str, Any]]
    regex: re.Pattern[str] = field(repr=False)

    @property
    def model_uri(self) -> str:
        return f"urn:spapi:{self.api}"

    def match(self, raw_path: str) -> dict[str, str] | None:
        found = self.regex.match(raw_path)
        if not found:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}

    @cached_property
    def query_parameters(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters if p.location == "query"}

    @cached_property
    def body_parameter(self) -> Parameter | None:
        return next((p for p in self.parameters if p.location == "body"), None)

    def static_examples(self) -> list[tuple[int, dict[str, Any], Any]]:
        """Amazon's ``x-amzn-api-sandbox`` static pairs: (status, request parameters, response body)."""
        examples = []
        for code, response in self.responses.items():
            for example in response.get("x-amzn-api-sandbox", {}).get("static", []):
                examples.append((int(code), example.get("request", {}).get("parameters", {}), example["response"]))
        return examples

    def response_schema(self, status: int) -> dict[str, Any] | None:
        response = self.responses.get(str(status)) or self.responses.get("default")
        if not response or "schema" not in response:
            return None
        return _absolute_refs(response["schema"], self.model_uri)


def _absolute_refs(schema: Any, uri: str) -> Any:
    if isinstance(schema, dict):
        return {
            key: (
                uri + value
                if key == "$ref" and isinstance(value, str) and value.startswith("#")
                else _absolute_refs(value, uri)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_absolute_refs(item, uri) for item in schema]
    return schema


def _resolve_parameter(raw: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in raw:
        name = raw["$ref"].rsplit("/", 1)[1]
        return document["parameters"][name]
    return raw


def usage_plan(description: str) -> tuple[float, int]:
    """(rate per second, burst) from the "| rate | burst |" table in an operation's description."""
    found = _USAGE_PLAN.search(description or "")
    if not found:
        raise ValueError("operation description has no usage plan table")
    return float(found.group(1)), int(found.group(2))


@cache
def model_document(filename: str) -> dict[str, Any]:
    return json.loads((MODELS_DIR / filename).read_text(encoding="utf-8"))


@cache
def operations() -> tuple[Operation, ...]:
    found: list[Operation] = []
    for filename in API_FILES:
        document = model_document(filename)
        api = filename.removesuffix(".json")
        for path, item in document["paths"].items():
            shared = [_resolve_parameter(p, document) for p in item.get("parameters", [])]
            for method, op in item.items():
                if method not in HTTP_METHODS:  # "parameters", "x-amzn-api-sandbox-only", ...
                    continue
                params = shared + [_resolve_parameter(p, document) for p in op.get("parameters", [])]
                rate, burst = usage_plan(op.get("description", ""))
                pattern = (
                    "^"
                    + _PATH_PARAM.sub(
                        lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
                    )
                    + "$"
                )
                found.append(
                    Operation(
                        api=api,
                        operation_id=op["operationId"],
                        method=method.upper(),
                        path=path,
                        rate=rate,
                        burst=burst,
                        parameters=[Parameter(p["name"], p["in"], bool(p.get("required")), p) for p in params],
                        responses=op.get("responses", {}),
                        regex=re.compile(pattern),
                    )
                )
    return tuple(found)


@cache
def operation(operation_id: str) -> Operation:
    for op in operations():
        if op.operation_id == operation_id:
            return op
    raise KeyError(operation_id)


class Router:
    """Finds the model operation of a request (method + raw, still percent-encoded, path)."""

    def __init__(self, ops: tuple[Operation, ...]) -> None:
        self._by_method: dict[str, list[Operation]] = {}
        for op in ops:
            self._by_method.setdefault(op.method, []).append(op)

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self._by_method.get(method, ()):
            params = op.match(raw_path)
            if params is not None:
                return op, params
        return None

    def path_exists(self, raw_path: str) -> bool:
        return any(op.regex.match(raw_path) for ops in self._by_method.values() for op in ops)


@cache
def registry():
    """A ``referencing`` registry holding every model document (swagger 2.0 = JSON Schema draft 4)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for filename in API_FILES:
        document = model_document(filename)
        resources.append(
            (f"urn:spapi:{filename.removesuffix('.json')}", Resource(contents=document, specification=DRAFT4))
        )
    return Registry().with_resources(resources)


@cache
def _validator_for(op_id: str, status: int):
    from jsonschema import Draft4Validator

    schema = operation(op_id).response_schema(status)
    if schema is None:
        return None
    return Draft4Validator(schema, registry=registry())


def response_errors(op: Operation, status: int, body: Any) -> list[str]:
    """Contract violations of a response body against the operation's schema for that status."""
    validator = _validator_for(op.operation_id, status)
    if validator is None:
        return [] if str(status) in op.responses else [f"status {status} is not a documented response"]
    return [
        f"{op.operation_id} {status}: {'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


@cache
def feed_schema_validator():
    """Draft-07 validator of whole JSON_LISTINGS_FEED documents (listings-feed-schema-v2.json)."""
    from jsonschema import Draft7Validator

    return Draft7Validator(model_document("listings-feed-schema-v2.json"))


@cache
def feed_envelope_validator():
    """listings-feed-schema-v2.json without the message item schema (header, messages count, type)."""
    import copy

    from jsonschema import Draft7Validator

    schema = copy.deepcopy(model_document("listings-feed-schema-v2.json"))
    del schema["properties"]["messages"]["items"]
    return Draft7Validator(schema)


@cache
def message_validator():
    """Draft-07 validator of one feed message: the item schema of listings-feed-schema-v2.json."""
    from jsonschema import Draft7Validator

    return Draft7Validator(model_document("listings-feed-schema-v2.json")["properties"]["messages"]["items"])


@cache
def processing_report_validator():
    from jsonschema import Draft7Validator

    return Draft7Validator(model_document("listings-feed-processing-report-schema-v2.json"))


@cache
def order_change_validator():
    """Draft-07 validator of ORDER_CHANGE notifications (OrderChangeNotification.json)."""
    from jsonschema import Draft7Validator

    return Draft7Validator(model_document("OrderChangeNotification.json"))
