"""``/openapi.json`` (X9), built from the routes' own declarations (``routing.Operation``).

The request schemas in it are the very dicts the server validates bodies with, so the
document cannot promise one thing while the server checks another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.routing import BaseRoute

from trove_server.auth import NAMESPACE_PATTERN
from trove_server.routing import Access, ApiRoute
from trove_server.schemas import ERROR

__all__ = ["build_document"]

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
_ERROR_TEXT = {
    400: "The request cannot be served as sent (header or parameter)",
    401: "Missing, unknown or revoked API key",
    403: "The key may not do this (kind, workspace or namespace)",
    404: "Not found",
    408: "The command ran past its time limit",
    409: "The resource is in a state that prevents this",
    413: "Too large",
    422: "Malformed JSON or an invalid field",
    503: "The server is shutting down",
    507: "Not enough disk space on the server",
}


def _clean(schema: Any) -> Any:
    """Drop our private ``x-...`` keywords (validation messages) from a schema."""
    if isinstance(schema, Mapping):
        return {k: _clean(v) for k, v in schema.items() if not str(k).startswith("x-")}
    if isinstance(schema, list):
        return [_clean(v) for v in schema]
    return schema


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_TEXT.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(route: ApiRoute, method: str) -> dict[str, Any]:
    op = route.operation
    declared = {p.name for p in op.params if p.location == "path"}
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
        if name not in declared
    ]
    parameters += [
        {
            "name": p.name,
            "in": p.location,
            "required": p.required or p.location == "path",
            "schema": _clean(p.schema),
            **({"description": p.description} if p.description else {}),
        }
        for p in op.params
    ]
    errors = set(op.errors)
    if route.access is not Access.PUBLIC:
        errors |= {401, 403}
    if route.access is Access.RUNTIME:
        errors.add(400)
        parameters.append(
            {
                "name": "X-Namespace",
                "in": "header",
                "required": False,
                "description": "the namespace (required unless the key is locked to one)",
                "schema": {"type": "string", "pattern": NAMESPACE_PATTERN},
            }
        )
    if op.body is not None or op.params or route.access is Access.RUNTIME:
        errors.add(422)
    if op.body is not None:
        errors.add(413)
    success: dict[str, Any] = {"description": op.summary}
    if op.response is not None or op.media_type != "application/json":
        schema = (
            {"type": "string", "format": "binary"}
            if op.media_type == "application/octet-stream"
            else _clean(op.response or {"type": "string"})
        )
        success["content"] = {op.media_type: {"schema": schema}}
    if op.response_headers:
        success["headers"] = {
            name: {"schema": _clean(schema)} for name, schema in op.response_headers.items()
        }
    document: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{method}_{route.path}".replace("/", "_")
        .replace("{", "")
        .replace("}", "")
        .replace(":trove_path", "")
        .replace("-", "_"),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {
            str(op.status): success,
            **{str(code): _error(code) for code in sorted(errors)},
            "default": _error(500),
        },
    }
    if op.description:
        document["description"] = op.description
    document["security"] = [] if route.access is Access.PUBLIC else [{"bearer": []}]
    if op.body is not None:
        document["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": _clean(op.body)}},
        }
    elif op.raw_body:
        document["requestBody"] = {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    return document


def build_document(
    routes: Iterable[BaseRoute], *, version: str, server_url: str | None = None
) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, ApiRoute):
            continue
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(route, method.lower())
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Trove API (local server)",
            "version": version,
            "description": "Persistent files and real shell commands for AI agents, "
            "isolated per namespace. See CONTRACT.md for the semantics.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
