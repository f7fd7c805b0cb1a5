"""The delivery log of a webhook (X2): list attempts, retry one, replay past events."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from trove_server import eventtypes
from trove_server.clock import InstantError, now_ms, parse_instant
from trove_server.delivery import UNBROADCAST, delivery_row, queue_attempt
from trove_server.errors import Conflict, NotFound, Unprocessable
from trove_server.routes.webhooks import find_webhook
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
from trove_server.schemas import obj
from trove_server.validation import read_object

__all__ = ["routes"]

MAX_REPLAY = 10_000

DELIVERY = obj(
    [
        "delivery_id",
        "event_id",
        "event_type",
        "attempt",
        "status",
        "ok",
        "error",
        "duration_ms",
        "created_at",
        "next_attempt_at",
    ],
    delivery_id={"type": "string"},
    event_id={"type": "string"},
    event_type={"type": "string"},
    attempt={"type": "integer"},
    status={"type": ["integer", "null"]},
    ok={"type": "boolean"},
    error={"type": ["string", "null"]},
    duration_ms={"type": ["integer", "null"]},
    created_at={"type": "string"},
    next_attempt_at={"type": ["string", "null"]},
    state={"type": "string", "enum": ["pending", "sending", "done"]},
)
REPLAY = obj(
    ["since"],
    since={"type": "string", "minLength": 1},
    types={"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 64},
)

_ROWS = (
    "SELECT d.*, e.id AS event_id, e.type AS event_type FROM deliveries d "
    "JOIN events e ON e.seq = d.event_seq"
)


def _cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    value = cursor_value(raw)
    if value is None:
        raise Unprocessable(f"cursor {raw!r} is not a cursor from this list")
    return value


async def list_deliveries(ctx: Ctx) -> Response:
    hook = find_webhook(ctx)
    limit = query_int(ctx.request, "limit", 50, 1, 200)
    before = _cursor(ctx.request.query_params.get("cursor"))
    params: list[Any] = [hook["id"]]
    where = "d.webhook_id = ?"
    if before is not None:
        where += " AND d.seq < ?"
        params.append(before)
    rows = ctx.server.db.all(
        f"{_ROWS} WHERE {where} ORDER BY d.seq DESC LIMIT ?", (*params, limit + 1)
    )
    page = rows[:limit]
    more = len(rows) > limit
    return json_response(
        {
            "deliveries": [delivery_row(r) for r in page],
            "next_cursor": str(page[-1]["seq"]) if more and page else None,
        }
    )


async def retry_delivery(ctx: Ctx) -> Response:
    hook = find_webhook(ctx)
    if not hook["enabled"]:
        raise Conflict("this webhook is disabled; enable it (PATCH enabled=true) first")
    delivery_id = ctx.request.path_params["delivery_id"]
    row = ctx.server.db.one(
        "SELECT event_seq FROM deliveries WHERE id = ? AND webhook_id = ?",
        (delivery_id, hook["id"]),
    )
    if row is None:
        raise NotFound(f"Delivery not found: {delivery_id}")
    with ctx.server.db.transaction() as conn:
        queued = queue_attempt(conn, hook["id"], row["event_seq"], due_ms=now_ms())
    ctx.server.delivery.wake()
    pending = ctx.server.db.one(f"{_ROWS} WHERE d.id = ?", (queued,))
    assert pending is not None
    return json_response(delivery_row(pending))


async def replay(ctx: Ctx) -> Response:
    hook = find_webhook(ctx)
    if not hook["enabled"]:
        raise Conflict("this webhook is disabled; enable it (PATCH enabled=true) first")
    body = await read_object(ctx.request, REPLAY, ctx.server.settings.max_json_bytes)
    try:
        since = parse_instant(body["since"])
    except InstantError as exc:
        raise Unprocessable(f"since: {exc}") from None
    wanted = eventtypes.parse_patterns(json.loads(hook["events"]), "events")
    types = eventtypes.parse_patterns(body.get("types") or [], "types")
    clause, clause_params = eventtypes.sql_clause(types)
    params: list[Any] = [ctx.workspace_id, since, *clause_params]
    # ``clause`` is built from fixed fragments; values are bound parameters.
    sql = (
        "SELECT seq, type, namespace FROM events WHERE workspace_id = ? AND created_ms > ? "  # noqa: S608
        f"AND {clause}"
    )
    if hook["namespace"] is not None:
        sql += " AND namespace = ?"
        params.append(hook["namespace"])
    rows = ctx.server.db.all(sql + " ORDER BY seq LIMIT ?", (*params, MAX_REPLAY))
    now = now_ms()
    queued = 0
    with ctx.server.db.transaction() as conn:
        for row in rows:
            if row["type"] in UNBROADCAST or not eventtypes.matches(wanted, row["type"]):
                continue
            queue_attempt(conn, hook["id"], row["seq"], due_ms=now)
            queued += 1
    if queued:
        ctx.server.delivery.wake()
    return json_response({"queued": queued})


_BASE = "/v1/workspaces/{workspace_id}/webhooks/{webhook_id}"
_ACTION = "manage webhooks"
routes = [
    api(
        "GET",
        _BASE + "/deliveries",
        list_deliveries,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Delivery attempts, newest first (pending ones show when they are due)",
            "webhooks",
            params=(
                Param("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                Param("cursor", {"type": "string", "pattern": CURSOR_PATTERN}),
            ),
            response=obj(
                ["deliveries", "next_cursor"],
                deliveries={"type": "array", "items": DELIVERY},
                next_cursor={"type": ["string", "null"]},
            ),
            errors=(404,),
        ),
    ),
    api(
        "POST",
        _BASE + "/deliveries/{delivery_id}/retry",
        retry_delivery,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Send this delivery's event again now",
            "webhooks",
            response=DELIVERY,
            errors=(404, 409),
        ),
    ),
    api(
        "POST",
        _BASE + "/replay",
        replay,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Queue past events again (since: a timestamp or a duration such as 1h)",
            "webhooks",
            body=REPLAY,
            response=obj(["queued"], queued={"type": "integer"}),
            errors=(404, 409),
        ),
    ),
]
