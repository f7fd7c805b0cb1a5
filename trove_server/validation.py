"""Request bodies: read with a size cap, parse, check against a JSON Schema.

The schemas are plain JSON Schema dicts declared next to each route; the same dicts go into
``/openapi.json``, so the documentation and the checks cannot drift apart. The checker knows
the subset we use (``type``, ``properties``, ``required``, ``items``, ``enum``, lengths,
``pattern``, bounds) and reports the first problem as one sentence naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request

from trove_server.errors import BadRequest, PayloadTooLarge, Unprocessable

__all__ = ["check", "read_body", "read_json", "read_object"]

Schema = Mapping[str, Any]

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _is(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return value is None


def check(value: Any, schema: Schema, where: str = "body") -> Any:
    """Return ``value`` if it satisfies ``schema``, else raise ``Unprocessable``."""
    kinds = schema.get("type")
    if kinds is not None:
        options = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in options):
            wanted = " or ".join(_TYPE_WORDS[k] for k in options)
            raise Unprocessable(f"{where} must be {wanted}")
    if value is None:
        return value
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        raise Unprocessable(f"{where} must be one of {choices}")
    if isinstance(value, str):
        _check_string(value, schema, where)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise Unprocessable(f"{where} must be at least {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise Unprocessable(f"{where} must be greater than {schema['exclusiveMinimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise Unprocessable(f"{where} must be at most {schema['maximum']}")
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise Unprocessable(f"{where} needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise Unprocessable(f"{where} takes at most {schema['maxItems']} items")
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                check(item, items, f"{where}[{index}]")
    elif isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                raise Unprocessable(f"{_join(where, name)} is required")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                check(value[name], sub, _join(where, name))
    return value


def _check_string(value: str, schema: Schema, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Unprocessable(f"{where} is not valid Unicode (unpaired surrogate)") from None
    if "minLength" in schema and len(value) < schema["minLength"]:
        if schema["minLength"] == 1:
            raise Unprocessable(f"{where} must not be empty")
        raise Unprocessable(f"{where} must be at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise Unprocessable(
            f"{where} is {len(value)} characters; the limit is {schema['maxLength']}"
        )
    pattern = schema.get("pattern")
    if pattern is not None:
        compiled = _PATTERNS.get(pattern) or _PATTERNS.setdefault(pattern, _compile(pattern))
        if not compiled.search(value):
            raise Unprocessable(schema.get("x-pattern-message", f"{where} has an invalid format"))


def _compile(pattern: str) -> re.Pattern[str]:
    r"""A JSON Schema (ECMA-262) pattern as Python reads it. There ``$`` is the end of the
    text; Python's ``$`` also matches before a final newline, so ``"alice\n"`` passed
    ``^[a-z]+$``. A final unescaped ``$`` becomes ``\Z``."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _join(where: str, name: str) -> str:
    return name if where == "body" else f"{where}.{name}"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, limit: int) -> Any:
    """The decoded JSON body, or None when the body is empty (clients that send
    ``Content-Type: application/json`` with no body are tolerated)."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise Unprocessable("request body is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise Unprocessable(f"request body is not valid JSON: {exc}") from None


async def read_object(request: Request, schema: Schema, limit: int) -> dict[str, Any]:
    """A JSON object body checked against ``schema``."""
    body = await read_json(request, limit)
    if body is None:
        if schema.get("required"):
            fields = ", ".join(schema["required"])
            raise Unprocessable(f"request body must be a JSON object with {fields}")
        body = {}
    if not isinstance(body, dict):
        raise Unprocessable("request body must be a JSON object")
    check(body, schema)
    return body
