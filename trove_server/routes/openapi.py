"""``GET /openapi.json``: the API described from the routes themselves (X9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from trove_sdk import __version__
from trove_server.openapi import build_document
from trove_server.routes.device import public_base
from trove_server.routing import Access, Operation, api, json_response
from trove_server.state import ServerState

__all__ = ["routes"]


async def document(request: Request, server: ServerState) -> Response:
    return json_response(
        build_document(
            request.app.routes, version=__version__, server_url=public_base(request, server)
        )
    )


routes = [
    api(
        "GET",
        "/openapi.json",
        document,
        access=Access.PUBLIC,
        operation=Operation("This document", "meta", response={"type": "object"}),
    ),
]
