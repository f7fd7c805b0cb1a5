"""Device login API (CONTRACT §2.10): ``start`` and ``poll``, called without a key."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from trove_server import devicelogin
from trove_server.errors import NotFound
from trove_server.routing import Access, Operation, api, json_response
from trove_server.schemas import obj
from trove_server.state import ServerState
from trove_server.validation import read_object

__all__ = ["public_base", "routes"]

POLL_INTERVAL_S = 2

STARTED = obj(
    ["device_code", "user_code", "verification_uri", "interval", "expires_in"],
    device_code={"type": "string"},
    user_code={"type": "string"},
    verification_uri={"type": "string"},
    verification_uri_complete={"type": "string"},
    interval={"type": "integer"},
    expires_in={"type": "integer"},
)
POLL = obj(["device_code"], device_code={"type": "string", "minLength": 1, "maxLength": 512})
POLLED = obj(
    ["status"],
    status={"type": "string", "enum": ["pending", "approved", "denied", "expired"]},
    api_key={"type": "string"},
    workspace_id={"type": "string"},
    key_id={"type": "string"},
)


def public_base(request: Request, server: ServerState) -> str:
    """Where a browser reaches this server: the configured public URL, else this request's."""
    return server.settings.public_url or str(request.base_url).rstrip("/")


async def start(request: Request, server: ServerState) -> Response:
    device_code, user_code = devicelogin.start(server)
    page = public_base(request, server) + "/device"
    return json_response(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": page,
            "verification_uri_complete": f"{page}?code={quote(user_code)}",
            "interval": POLL_INTERVAL_S,
            "expires_in": server.settings.device_code_ttl,
        },
        status=201,
    )


async def poll(request: Request, server: ServerState) -> Response:
    body = await read_object(request, POLL, server.settings.max_json_bytes)
    answer = devicelogin.poll(server, body["device_code"])
    if answer is None:
        raise NotFound("unknown device code: start a new login")
    return json_response(answer)


routes = [
    api(
        "POST",
        "/v1/auth/device/start",
        start,
        access=Access.PUBLIC,
        operation=Operation(
            "Begin a browser (device) login", "device login", status=201, response=STARTED
        ),
    ),
    api(
        "POST",
        "/v1/auth/device/poll",
        poll,
        access=Access.PUBLIC,
        operation=Operation(
            "Has the human approved yet? (approved: the minted key, once)",
            "device login",
            body=POLL,
            response=POLLED,
            errors=(404,),
        ),
    ),
]
