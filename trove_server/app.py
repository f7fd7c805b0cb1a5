"""``create_app(settings)``: the Starlette app, assembled from route lists, a middleware list
and a lifespan that owns the server's parts (``state.ServerState``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from trove_server.errors import exception_handlers
from trove_server.middleware.request_id import RequestIdMiddleware
from trove_server.routes import (
    dashboard,
    deliveries,
    device,
    events,
    exec,
    files,
    keys,
    me,
    namespaces,
    openapi,
    snapshots,
    stream,
    webhooks,
    workspaces,
)
from trove_server.sandbox import Sandbox, probe_sandbox
from trove_server.settings import Settings
from trove_server.state import ServerState, prepare_data_dir

__all__ = ["ROUTES", "create_app"]

ROUTES: list[BaseRoute] = [
    *me.routes,
    *exec.routes,
    *files.routes,
    *snapshots.routes,
    *keys.routes,
    *webhooks.routes,
    *deliveries.routes,
    *events.routes,
    *stream.routes,
    *namespaces.routes,
    *workspaces.routes,
    *device.routes,
    *dashboard.routes,
    *openapi.routes,
]


def create_app(settings: Settings, *, sandbox: Sandbox | None = None) -> Starlette:
    """The server as an ASGI app.

    Parameters:
        settings: the configuration (``Settings``).
        sandbox: the isolation decided by ``probe_sandbox`` (the app probes at startup when
            not given).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        prepare_data_dir(settings)
        box = sandbox if sandbox is not None else await asyncio.to_thread(probe_sandbox, settings)
        state = ServerState(settings, box)
        app.state.trove = state
        await state.start()
        try:
            yield
        finally:
            await state.close()

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers=exception_handlers(),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
