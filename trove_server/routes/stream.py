"""The resumable event stream (X1), served at ``.../webhooks/stream`` and ``.../events/stream``.

Server-sent events: first a synthetic ``connected`` block, then one block per event —
``id: <seq>``, ``event: <type>``, ``data: <the stored envelope>`` — and a ``: keep-alive``
comment whenever nothing happened for ``sse_keepalive`` seconds. ``Last-Event-ID`` (or
``?cursor=``) resumes strictly after that seq: reading always continues from the last id sent
up to a committed horizon, so nothing is skipped and nothing repeats, across reconnects and
server restarts alike. Revoking the key ends its open streams before they send anything more
(the client's reconnect then gets its 401).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from trove_sdk import API_VERSION
from trove_server.auth import key_is_active
from trove_server.errors import BadRequest
from trove_server.routes.events import NAMESPACE_QUERY, TYPES_QUERY, event_filters
from trove_server.routing import CURSOR_PATTERN, Access, Ctx, Operation, Param, api, cursor_value

__all__ = ["routes"]

_BATCH = 500
_RECONNECT_MS = 1000


def _start(ctx: Ctx, newest: int) -> int:
    raw = ctx.request.headers.get("last-event-id") or ctx.request.query_params.get("cursor")
    if not raw:
        return newest
    name = "Last-Event-ID" if ctx.request.headers.get("last-event-id") else "cursor"
    cursor = cursor_value(raw)
    if cursor is None:
        raise BadRequest(f"{name} {raw!r} is not a cursor from this stream")
    if cursor > newest:
        raise BadRequest(
            f"{name} {cursor} is ahead of this server's newest event ({newest}); "
            "it comes from another server or a reset data directory"
        )
    return cursor


async def stream(ctx: Ctx) -> Response:
    types, namespace = event_filters(ctx)
    server = ctx.server
    log = server.events
    start = _start(ctx, log.newest_seq())
    keepalive = server.settings.sse_keepalive
    workspace_id = ctx.workspace_id
    key_id = ctx.principal.key_id

    async def blocks() -> AsyncIterator[str]:
        hello = {
            "type": "connected",
            "workspace_id": workspace_id,
            "namespace": namespace,
            "cursor": str(start),
            "api_version": API_VERSION,
            "keepalive_seconds": keepalive,
        }
        yield f"retry: {_RECONNECT_MS}\nevent: connected\ndata: {json.dumps(hello)}\n\n"
        last = start
        while not server.stopping.is_set():
            waiter = server.bus.waiter(workspace_id)
            if not key_is_active(server.db, key_id):
                return
            horizon = log.newest_seq()
            rows = log.after(workspace_id, last, types=types, namespace=namespace, limit=_BATCH)
            rows = [r for r in rows if r.seq <= horizon]
            if rows:
                yield "".join(f"id: {r.seq}\nevent: {r.type}\ndata: {r.body}\n\n" for r in rows)
            if len(rows) == _BATCH:
                last = rows[-1].seq
                continue
            # Everything up to the horizon was read: rows the filters skipped need no rescan.
            last = max(last, horizon)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(waiter.wait(), keepalive)
                continue
            yield ": keep-alive\n\n"

    return StreamingResponse(
        blocks(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _operation(path_name: str) -> Operation:
    return Operation(
        f"Events as they happen (server-sent events; {path_name})",
        "events",
        media_type="text/event-stream",
        response={"type": "string"},
        params=(
            Param("cursor", {"type": "string", "pattern": CURSOR_PATTERN}, "resume after"),
            Param("Last-Event-ID", {"type": "string"}, "resume after", location="header"),
            NAMESPACE_QUERY,
            TYPES_QUERY,
        ),
        errors=(400,),
    )


routes = [
    api(
        "GET",
        "/v1/workspaces/{workspace_id}/webhooks/stream",
        stream,
        access=Access.KEY,
        operation=_operation("the path `trove webhooks listen` uses"),
    ),
    api(
        "GET",
        "/v1/workspaces/{workspace_id}/events/stream",
        stream,
        access=Access.KEY,
        operation=_operation("the same stream under the events path"),
    ),
]
