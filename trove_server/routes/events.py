"""The events feed (CONTRACT §2.8, D2): newest first, exclusive ``since``, cursor paging.

A namespace-locked key sees only its own namespace, here and on the stream.
"""

from __future__ import annotations

from starlette.responses import Response

from trove_server import eventtypes
from trove_server.auth import check_namespace
from trove_server.clock import InstantError, parse_instant
from trove_server.errors import Forbidden, Unprocessable
from trove_server.eventlog import feed_row
from trove_server.routing import (
    CURSOR_PATTERN,
    Access,
    Ctx,
    Operation,
    Param,
    api,
    cursor_value,
    json_response,
    query_int,
)
from trove_server.schemas import EVENT, obj

__all__ = ["event_filters", "routes"]

NAMESPACE_QUERY = Param("namespace", {"type": "string"}, "only this namespace's events")
TYPES_QUERY = Param(
    "types", {"type": "string"}, "comma-separated types or groups (file.written,exec.*)"
)


def event_filters(ctx: Ctx) -> tuple[tuple[str, ...], str | None]:
    """The ``types`` and ``namespace`` filters, with a key's namespace lock applied."""
    query = ctx.request.query_params
    types = eventtypes.parse_patterns(eventtypes.split_csv(query.get("types", "")), "types")
    namespace = query.get("namespace") or None
    if namespace is not None:
        check_namespace(namespace)
    lock = ctx.principal.namespace
    if lock is not None:
        if namespace is not None and namespace != lock:
            raise Forbidden(f"This key is scoped to namespace '{lock}'")
        namespace = lock
    return types, namespace


def _before(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    value = cursor_value(raw)
    if value is None:
        raise Unprocessable(f"cursor {raw!r} is not a cursor from this feed")
    return value


async def feed(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    types, namespace = event_filters(ctx)
    limit = query_int(ctx.request, "limit", 50, 1, 200)
    since = None
    if query.get("since"):
        try:
            since = parse_instant(query["since"])
        except InstantError as exc:
            raise Unprocessable(f"since: {exc}") from None
    events, next_seq = ctx.server.events.page(
        ctx.workspace_id,
        since_ms=since,
        types=types,
        namespace=namespace,
        before_seq=_before(query.get("cursor")),
        limit=limit,
    )
    return json_response(
        {
            "events": [feed_row(e.body) for e in events],
            "next_cursor": None if next_seq is None else str(next_seq),
        }
    )


routes = [
    api(
        "GET",
        "/v1/workspaces/{workspace_id}/events",
        feed,
        access=Access.KEY,
        operation=Operation(
            "Events, newest first (since is exclusive; next_cursor pages to older ones)",
            "events",
            params=(
                Param("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                Param("since", {"type": "string"}, "ISO-8601 timestamp or duration (5m)"),
                Param("cursor", {"type": "string", "pattern": CURSOR_PATTERN}),
                NAMESPACE_QUERY,
                TYPES_QUERY,
            ),
            response=obj(
                ["events", "next_cursor"],
                events={"type": "array", "items": EVENT},
                next_cursor={"type": ["string", "null"]},
            ),
        ),
    ),
]
