"""Declaring an API route: path, method, who may call it, and its OpenAPI description.

``api(...)`` returns a Starlette ``Route`` whose endpoint authenticates, applies the access
rule (D4), resolves the namespace of runtime calls and then calls the handler with a
``Ctx``. The ``Operation`` attached to the route is what ``/openapi.json`` is built from, so
every route is described by the same declaration that wires it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trove_server.auth import Principal, authenticate, runtime_namespace
from trove_server.errors import Forbidden, Unprocessable

if TYPE_CHECKING:
    from trove_server.state import ServerState

__all__ = [
    "Access",
    "ApiRoute",
    "Ctx",
    "Operation",
    "Param",
    "api",
    "cursor_value",
    "json_response",
    "query_int",
]

Schema = Mapping[str, Any]
# Cursors are seq numbers. ASCII digits only (str.isdigit() also takes '²', which int()
# refuses), and short enough for SQLite's 64-bit integers.
CURSOR_PATTERN = "^[0-9]{1,18}$"
_CURSOR = re.compile("[0-9]{1,18}")


class Access(enum.Enum):
    PUBLIC = "public"  # no key (device login, sign-up, the OpenAPI document)
    KEY = "key"  # any key of the workspace in the path (feed, stream, /v1/me)
    ADMIN = "admin"  # admin keys only (keys, webhooks, deleting namespaces)
    RUNTIME = "runtime"  # workspace keys, with a namespace (exec, files, snapshots)


@dataclass(frozen=True)
class Param:
    name: str
    schema: Schema
    description: str = ""
    required: bool = False
    location: str = "query"


@dataclass(frozen=True)
class Operation:
    """What ``/openapi.json`` says about a route."""

    summary: str
    tag: str
    status: int = 200
    body: Schema | None = None
    body_required: bool = True
    raw_body: bool = False
    params: tuple[Param, ...] = ()
    response: Schema | None = None
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    response_headers: Mapping[str, Schema] = field(default_factory=dict)
    description: str = ""


@dataclass
class Ctx:
    """What a handler gets: the request, the server, and who is calling in which namespace."""

    request: Request
    server: ServerState
    principal: Principal
    namespace: str

    @property
    def workspace_id(self) -> str:
        return self.principal.workspace_id


Handler = Callable[[Ctx], Awaitable[Response]]
PublicHandler = Callable[[Request, "ServerState"], Awaitable[Response]]


class ApiRoute(Route):
    operation: Operation
    access: Access


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=dict(headers or {}))


def _check_workspace(request: Request, principal: Principal) -> None:
    wanted = request.path_params.get("workspace_id")
    if wanted is not None and wanted != principal.workspace_id:
        raise Forbidden(f"This key belongs to workspace {principal.workspace_id}, not {wanted}")


def api(
    method: str,
    path: str,
    handler: Callable[..., Awaitable[Response]],
    *,
    access: Access,
    operation: Operation,
    admin_action: str | None = None,
) -> ApiRoute:
    """A route whose endpoint enforces ``access`` before calling ``handler``.

    ``admin_action`` completes the 403 sentence for workspace keys on admin routes
    ("Workspace keys cannot manage keys.").
    """
    if access is Access.ADMIN and not admin_action:
        raise ValueError(f"{method} {path}: admin routes need admin_action for their 403")

    async def endpoint(request: Request) -> Response:
        server: ServerState = request.app.state.trove
        if access is Access.PUBLIC:
            return await handler(request, server)
        principal = authenticate(server.db, request.headers.get("authorization"))
        _check_workspace(request, principal)
        namespace = ""
        if access is Access.ADMIN and not principal.is_admin:
            raise Forbidden(f"Workspace keys cannot {admin_action}.")
        if access is Access.RUNTIME:
            namespace = runtime_namespace(principal, request.headers.get("x-namespace"))
        return await handler(Ctx(request, server, principal, namespace))

    route = ApiRoute(path, endpoint, methods=[method], name=f"{method} {path}")
    route.operation = operation
    route.access = access
    return route


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Unprocessable(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise Unprocessable(f"{name} must be between {low} and {high}, not {value}")
    return value


def cursor_value(raw: str) -> int | None:
    """The seq number a cursor this server handed out stands for; None for anything else."""
    return int(raw) if _CURSOR.fullmatch(raw) else None
