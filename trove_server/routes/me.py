"""``GET /v1/me``: who a key is, plus what this server can do and how it isolates commands."""

from __future__ import annotations

from starlette.responses import Response

from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import obj

__all__ = ["capabilities", "routes"]

_BASE_CAPABILITIES = (
    "exec.stdin",
    "exec.timeout",
    "exec.output_caps",
    "files.stream",
    "events.feed",
    "events.stream",
    "webhooks.update",
    "webhooks.rotate",
    "webhooks.deliveries",
    "webhooks.replay",
    "namespaces",
    "snapshots",
    "device_login",
)

IDENTITY = obj(
    ["workspace_id", "key_id", "key_name", "scope", "namespace", "capabilities", "isolation"],
    workspace_id={"type": "string"},
    key_id={"type": "string"},
    key_name={"type": "string"},
    scope={"type": "string", "enum": ["workspace", "admin"]},
    namespace={"type": ["string", "null"]},
    capabilities={"type": "array", "items": {"type": "string"}},
    isolation={"type": "string", "enum": ["bwrap", "none"]},
)


def capabilities(*, allow_signup: bool, isolation: str) -> list[str]:
    extra = ["signup"] if allow_signup else []
    if isolation == "bwrap":
        extra.append("exec.sandbox")
    return [*_BASE_CAPABILITIES, *extra]


async def me(ctx: Ctx) -> Response:
    p = ctx.principal
    return json_response(
        {
            "workspace_id": p.workspace_id,
            "key_id": p.key_id,
            "key_name": p.key_name,
            "scope": p.scope,
            "namespace": p.namespace,
            "capabilities": capabilities(
                allow_signup=ctx.server.settings.allow_signup, isolation=ctx.server.isolation
            ),
            "isolation": ctx.server.isolation,
        }
    )


routes = [
    api(
        "GET",
        "/v1/me",
        me,
        access=Access.KEY,
        operation=Operation("Who this key is", "identity", response=IDENTITY),
    ),
]
