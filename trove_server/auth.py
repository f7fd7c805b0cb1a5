"""API keys: minting (shown once, stored as a SHA-256 digest), authentication, scopes (D4).

A request's ``Authorization: Bearer <key>`` becomes a ``Principal``: which key, which
workspace, which scope, which namespace lock. Revocation takes effect on the next request —
nothing is cached.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from trove_server.clock import iso, now_ms
from trove_server.db import Database
from trove_server.errors import BadRequest, Forbidden, Unauthorized, Unprocessable
from trove_server.tokens import (
    KEY_PREFIX_CHARS,
    new_api_key,
    new_key_id,
    same_digest,
    secret_digest,
)

__all__ = [
    "NAMESPACE_PATTERN",
    "MintedKey",
    "Principal",
    "authenticate",
    "check_namespace",
    "key_is_active",
    "key_metadata",
    "mint_key",
    "runtime_namespace",
]

# D5. The pattern is also the OpenAPI pattern of every namespace field.
NAMESPACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAMESPACE = re.compile(NAMESPACE_PATTERN)
_BEARER = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Principal:
    key_id: str
    key_name: str
    workspace_id: str
    scope: str  # "workspace" | "admin"
    namespace: str | None  # the key's lock; None = any namespace

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"


@dataclass(frozen=True)
class MintedKey:
    metadata: dict[str, Any]
    api_key: str  # plaintext: returned once, never stored


def check_namespace(value: str, where: str = "namespace") -> str:
    # fullmatch: ``$`` alone also matches before a final newline, which let "alice\n" in.
    if not isinstance(value, str) or not _NAMESPACE.fullmatch(value):
        raise Unprocessable(
            f"{where} {value!r} is not a valid namespace name: use 1-64 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return value


def key_metadata(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "key_id": row["id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "scope": row["scope"],
        "namespace": row["namespace"],
        "created_at": iso(row["created_ms"]),
    }


def mint_key(
    conn: sqlite3.Connection,
    workspace_id: str,
    name: str,
    *,
    scope: str = "workspace",
    namespace: str | None = None,
) -> MintedKey:
    """Create a key inside the caller's transaction."""
    if scope == "admin" and namespace is not None:
        raise Unprocessable("an admin key cannot be locked to a namespace")
    plaintext = new_api_key()
    key_id = new_key_id()
    conn.execute(
        "INSERT INTO api_keys (id, workspace_id, name, prefix, digest, scope, namespace, "
        "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key_id,
            workspace_id,
            name,
            plaintext[:KEY_PREFIX_CHARS],
            secret_digest(plaintext),
            scope,
            namespace,
            now_ms(),
        ),
    )
    row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return MintedKey(key_metadata(row), plaintext)


def authenticate(db: Database, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization`` header; 401 for anything else."""
    if not authorization:
        raise Unauthorized(
            "Missing API key: send 'Authorization: Bearer trove-sk-...'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    match = _BEARER.match(authorization)
    if match is None:
        raise Unauthorized(
            "Malformed Authorization header: expected 'Bearer <api key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    digest = secret_digest(match.group(1))
    row = db.one(
        "SELECT id, name, workspace_id, scope, namespace, digest FROM api_keys "
        "WHERE digest = ? AND revoked_ms IS NULL",
        (digest,),
    )
    # The lookup is by digest; comparing again in constant time keeps the check itself
    # independent of how the index found (or did not find) the row.
    if row is None or not same_digest(row["digest"], digest):
        raise Unauthorized("Invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return Principal(
        key_id=row["id"],
        key_name=row["name"],
        workspace_id=row["workspace_id"],
        scope=row["scope"],
        namespace=row["namespace"],
    )


def key_is_active(db: Database, key_id: str) -> bool:
    """Whether a key still works: long-lived responses (the event stream) ask again as they
    go, so a revocation also ends what the key already opened."""
    row = db.one("SELECT 1 FROM api_keys WHERE id = ? AND revoked_ms IS NULL", (key_id,))
    return row is not None


def runtime_namespace(principal: Principal, header: str | None) -> str:
    """The namespace a runtime call works in (D4): the header, checked against the lock."""
    if principal.is_admin:
        raise Forbidden("Admin keys cannot access the filesystem.")
    if header is None or header == "":
        if principal.namespace is not None:
            return principal.namespace
        raise BadRequest("X-Namespace header is required (this key is not locked to one)")
    check_namespace(header, "X-Namespace")
    if principal.namespace is not None and header != principal.namespace:
        raise Forbidden(f"This key is scoped to namespace '{principal.namespace}'")
    return header
