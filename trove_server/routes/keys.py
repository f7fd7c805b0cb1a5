"""Keys (CONTRACT §2.6): mint (plaintext shown once), list active keys, revoke at once."""

from __future__ import annotations

from starlette.responses import Response

from trove_server.auth import key_metadata, mint_key
from trove_server.clock import now_ms
from trove_server.errors import Conflict, NotFound
from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import NULLABLE_NAMESPACE, TIMESTAMP, obj
from trove_server.validation import read_object

__all__ = ["routes"]

KEY = obj(
    ["key_id", "name", "prefix", "scope", "namespace", "created_at"],
    key_id={"type": "string"},
    name={"type": "string"},
    prefix={"type": "string"},
    scope={"type": "string", "enum": ["workspace", "admin"]},
    namespace={"type": ["string", "null"]},
    created_at=TIMESTAMP,
)
KEY_CREATED = {
    **KEY,
    "required": [*KEY["required"], "api_key"],
    "properties": {**KEY["properties"], "api_key": {"type": "string"}},
}
CREATE_KEY = obj(
    ["name"],
    name={"type": "string", "minLength": 1, "maxLength": 128},
    namespace=NULLABLE_NAMESPACE,
    admin={"type": ["boolean", "null"]},
)


async def create_key(ctx: Ctx) -> Response:
    body = await read_object(ctx.request, CREATE_KEY, ctx.server.settings.max_json_bytes)
    scope = "admin" if body.get("admin") else "workspace"
    with ctx.server.db.transaction() as conn:
        minted = mint_key(
            conn, ctx.workspace_id, body["name"], scope=scope, namespace=body.get("namespace")
        )
    meta = minted.metadata
    ctx.server.events.emit(
        ctx.workspace_id,
        "key.created",
        {
            "key_id": meta["key_id"],
            "name": meta["name"],
            "scope": meta["scope"],
            "namespace": meta["namespace"],
        },
    )
    return json_response({**meta, "api_key": minted.api_key}, status=201)


async def list_keys(ctx: Ctx) -> Response:
    rows = ctx.server.db.all(
        "SELECT * FROM api_keys WHERE workspace_id = ? AND revoked_ms IS NULL "
        "ORDER BY created_ms, id",
        (ctx.workspace_id,),
    )
    return json_response({"keys": [key_metadata(r) for r in rows]})


async def revoke_key(ctx: Ctx) -> Response:
    key_id = ctx.request.path_params["key_id"]
    if key_id == ctx.principal.key_id:
        raise Conflict("a key cannot revoke itself; revoke it with another admin key")
    with ctx.server.db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND workspace_id = ? "
            "AND revoked_ms IS NULL",
            (now_ms(), key_id, ctx.workspace_id),
        )
    if cursor.rowcount == 0:
        raise NotFound(f"Key not found: {key_id}")
    ctx.server.events.emit(ctx.workspace_id, "key.revoked", {"key_id": key_id})
    return json_response({"key_id": key_id, "revoked": True})


_BASE = "/v1/workspaces/{workspace_id}/keys"
routes = [
    api(
        "POST",
        _BASE,
        create_key,
        access=Access.ADMIN,
        admin_action="manage keys",
        operation=Operation(
            "Mint a key (the plaintext is returned once)",
            "keys",
            status=201,
            body=CREATE_KEY,
            response=KEY_CREATED,
        ),
    ),
    api(
        "GET",
        _BASE,
        list_keys,
        access=Access.ADMIN,
        admin_action="manage keys",
        operation=Operation(
            "Active keys of the workspace",
            "keys",
            response=obj(["keys"], keys={"type": "array", "items": KEY}),
        ),
    ),
    api(
        "DELETE",
        _BASE + "/{key_id}",
        revoke_key,
        access=Access.ADMIN,
        admin_action="manage keys",
        operation=Operation(
            "Revoke a key (effective immediately)",
            "keys",
            response=obj(
                ["key_id", "revoked"], key_id={"type": "string"}, revoked={"type": "boolean"}
            ),
            errors=(404, 409),
        ),
    ),
]
