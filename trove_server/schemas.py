"""JSON Schemas shared by several routes (request checks and ``/openapi.json`` alike)."""

from __future__ import annotations

from typing import Any

from trove_sdk import EVENT_TYPES
from trove_server.auth import NAMESPACE_PATTERN

__all__ = [
    "ERROR",
    "EVENT",
    "NAMESPACE",
    "NULLABLE_NAMESPACE",
    "TIMESTAMP",
    "obj",
]

Schema = dict[str, Any]

TIMESTAMP: Schema = {"type": "string", "description": "RFC 3339 UTC, milliseconds, Z (D14)"}
NAMESPACE: Schema = {
    "type": "string",
    "pattern": NAMESPACE_PATTERN,
    "x-pattern-message": (
        "namespace must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
}
NULLABLE_NAMESPACE: Schema = {**NAMESPACE, "type": ["string", "null"]}
ERROR: Schema = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
EVENT: Schema = {
    "type": "object",
    "required": ["id", "type", "api_version", "workspace_id", "namespace", "created_at", "data"],
    "properties": {
        "id": {"type": "string"},
        "event_id": {"type": "string"},
        "type": {"type": "string", "description": ", ".join(EVENT_TYPES)},
        "api_version": {"type": "string"},
        "workspace_id": {"type": "string"},
        "namespace": {"type": ["string", "null"]},
        "created_at": TIMESTAMP,
        "data": {"type": "object"},
    },
}


def obj(required: list[str], **properties: Schema) -> Schema:
    """An object schema (extra properties allowed: clients must tolerate them)."""
    return {"type": "object", "required": required, "properties": properties}
