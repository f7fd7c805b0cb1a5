"""``POST /v1/workspaces``: open sign-up (X8), served only when the server allows it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from trove_server.bootstrap import create_workspace
from trove_server.errors import Forbidden
from trove_server.routing import Access, Operation, api, json_response
from trove_server.schemas import obj
from trove_server.state import ServerState
from trove_server.validation import read_object

__all__ = ["routes"]

SIGNUP = obj(["name"], name={"type": "string", "minLength": 1, "maxLength": 128})
CREATED = obj(
    ["workspace_id", "api_key", "admin_key"],
    workspace_id={"type": "string"},
    api_key={"type": "string"},
    admin_key={"type": "string"},
)


async def signup(request: Request, server: ServerState) -> Response:
    if not server.settings.allow_signup:
        raise Forbidden("sign-up is disabled on this server (start it with --allow-signup)")
    body = await read_object(request, SIGNUP, server.settings.max_json_bytes)
    created = create_workspace(server.db, body["name"])
    server.bus.publish(created.workspace_id)
    return json_response(
        {
            "workspace_id": created.workspace_id,
            "api_key": created.api_key,
            "admin_key": created.admin_key,
        },
        status=201,
    )


routes = [
    api(
        "POST",
        "/v1/workspaces",
        signup,
        access=Access.PUBLIC,
        operation=Operation(
            "Create a workspace and its first keys (sign-up; when enabled)",
            "workspaces",
            status=201,
            body=SIGNUP,
            response=CREATED,
            errors=(403,),
        ),
    ),
]
