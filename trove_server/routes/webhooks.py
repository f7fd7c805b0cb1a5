"""Webhook subscriptions (CONTRACT §2.7, X3–X5): create, list, update, delete, test, rotate."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from trove_server import eventtypes
from trove_server.auth import check_namespace
from trove_server.clock import iso, now_ms
from trove_server.delivery import AttemptOutcome, note_outcome
from trove_server.errors import NotFound, Unprocessable
from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import NULLABLE_NAMESPACE, TIMESTAMP, obj
from trove_server.tokens import new_delivery_id, new_signing_secret, new_webhook_id
from trove_server.validation import read_object
from trove_server.webhook_http import DeliveryError, target_of

__all__ = ["find_webhook", "routes", "webhook_object"]

TEST_MESSAGE = "Hello from Trove! This is a test delivery."
MAX_GRACE_SECONDS = 30 * 86400

_URL = {"type": "string", "minLength": 1, "maxLength": 2048}
_EVENTS = {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 64}
_DESCRIPTION = {"type": ["string", "null"], "maxLength": 1024}
WEBHOOK = obj(
    ["webhook_id", "url", "events", "namespace", "description", "enabled", "created_at"],
    webhook_id={"type": "string"},
    url={"type": "string"},
    events={"type": "array", "items": {"type": "string"}},
    namespace={"type": ["string", "null"]},
    description={"type": ["string", "null"]},
    enabled={"type": "boolean"},
    created_at=TIMESTAMP,
    last_delivery_at={"type": ["string", "null"]},
    last_delivery_ok={"type": ["boolean", "null"]},
    last_delivery_status={"type": ["integer", "null"]},
)
WEBHOOK_CREATED = {
    **WEBHOOK,
    "required": [*WEBHOOK["required"], "signing_secret"],
    "properties": {**WEBHOOK["properties"], "signing_secret": {"type": "string"}},
}
CREATE = obj(
    ["url"], url=_URL, events=_EVENTS, namespace=NULLABLE_NAMESPACE, description=_DESCRIPTION
)
UPDATE = obj(
    [],
    url=_URL,
    events={**_EVENTS, "type": "array"},
    namespace=NULLABLE_NAMESPACE,
    description=_DESCRIPTION,
    enabled={"type": "boolean"},
)
ROTATE = obj([], grace_seconds={"type": "integer", "minimum": 0, "maximum": MAX_GRACE_SECONDS})
TEST_RESULT = obj(
    ["ok", "event_id"],
    ok={"type": "boolean"},
    event_id={"type": "string"},
    status={"type": ["integer", "null"]},
    error={"type": ["string", "null"]},
)
ROTATION = obj(
    ["signing_secret", "previous_expires_at"],
    signing_secret={"type": "string"},
    previous_expires_at={"type": ["string", "null"]},
)


def check_url(url: str) -> str:
    unsafe = any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url)
    if unsafe or urlsplit(url).scheme not in ("http", "https"):
        raise Unprocessable(f"url must be an http:// or https:// URL, not {url!r}")
    try:
        target_of(url)
    except DeliveryError as exc:
        raise Unprocessable(f"url must be an http:// or https:// URL: {exc}") from None
    return url


def webhook_object(row: sqlite3.Row) -> dict[str, Any]:
    ok = row["last_delivery_ok"]
    return {
        "webhook_id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "namespace": row["namespace"],
        "description": row["description"],
        "enabled": bool(row["enabled"]),
        "created_at": iso(row["created_ms"]),
        "last_delivery_at": iso(row["last_delivery_ms"]) if row["last_delivery_ms"] else None,
        "last_delivery_ok": None if ok is None else bool(ok),
        "last_delivery_status": row["last_delivery_status"],
    }


def find_webhook(ctx: Ctx) -> sqlite3.Row:
    webhook_id = ctx.request.path_params["webhook_id"]
    row = ctx.server.db.one(
        "SELECT * FROM webhooks WHERE id = ? AND workspace_id = ?", (webhook_id, ctx.workspace_id)
    )
    if row is None:
        raise NotFound(f"Webhook not found: {webhook_id}")
    return row


def _events(value: list[str] | None) -> list[str]:
    return list(eventtypes.parse_patterns(value or [], "events"))


async def create_webhook(ctx: Ctx) -> Response:
    body = await read_object(ctx.request, CREATE, ctx.server.settings.max_json_bytes)
    url = check_url(body["url"])
    events = _events(body.get("events"))
    namespace = body.get("namespace")
    if namespace is not None:
        check_namespace(namespace)
    webhook_id, secret = new_webhook_id(), new_signing_secret()
    with ctx.server.db.transaction() as conn:
        conn.execute(
            "INSERT INTO webhooks (id, workspace_id, url, events, namespace, description, "
            "secret, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                webhook_id,
                ctx.workspace_id,
                url,
                json.dumps(events),
                namespace,
                body.get("description"),
                secret,
                now_ms(),
            ),
        )
    row = ctx.server.db.one("SELECT * FROM webhooks WHERE id = ?", (webhook_id,))
    assert row is not None
    return json_response({**webhook_object(row), "signing_secret": secret}, status=201)


async def list_webhooks(ctx: Ctx) -> Response:
    rows = ctx.server.db.all(
        "SELECT * FROM webhooks WHERE workspace_id = ? ORDER BY created_ms, id",
        (ctx.workspace_id,),
    )
    return json_response({"webhooks": [webhook_object(r) for r in rows]})


async def update_webhook(ctx: Ctx) -> Response:
    row = find_webhook(ctx)
    body = await read_object(ctx.request, UPDATE, ctx.server.settings.max_json_bytes)
    changes: dict[str, Any] = {}
    if "url" in body:
        changes["url"] = check_url(body["url"])
    if "events" in body:
        changes["events"] = json.dumps(_events(body["events"]))
    if "namespace" in body:
        if body["namespace"] is not None:
            check_namespace(body["namespace"])
        changes["namespace"] = body["namespace"]
    if "description" in body:
        changes["description"] = body["description"]
    if "enabled" in body:
        changes["enabled"] = int(body["enabled"])
    if not changes:
        raise Unprocessable(
            "nothing to change: send any of url, events, namespace, description, enabled"
        )
    assignments = ", ".join(f"{name} = ?" for name in changes)
    with ctx.server.db.transaction() as conn:
        conn.execute(
            # Column names come from the fixed list above; values are bound parameters.
            f"UPDATE webhooks SET {assignments} WHERE id = ?",  # noqa: S608
            (*changes.values(), row["id"]),
        )
    if changes.get("enabled"):
        ctx.server.delivery.wake()  # deliveries held while it was disabled may go now
    updated = ctx.server.db.one("SELECT * FROM webhooks WHERE id = ?", (row["id"],))
    assert updated is not None
    return json_response(webhook_object(updated))


async def delete_webhook(ctx: Ctx) -> Response:
    row = find_webhook(ctx)
    with ctx.server.db.transaction() as conn:
        conn.execute("DELETE FROM deliveries WHERE webhook_id = ?", (row["id"],))
        conn.execute("DELETE FROM webhooks WHERE id = ?", (row["id"],))
    return json_response({"webhook_id": row["id"], "deleted": True})


async def test_webhook(ctx: Ctx) -> Response:
    """Send a ``webhook.test`` event to this webhook only, now, and report the answer."""
    row = find_webhook(ctx)
    server = ctx.server
    event = server.events.emit(ctx.workspace_id, "webhook.test", {"message": TEST_MESSAGE})
    hook = {**dict(row), "event_type": event.type, "event_id": event.id}
    delivery_id = new_delivery_id()
    outcome = await server.delivery.send(hook, event.body, delivery_id, 1)
    _record_test(ctx, row["id"], event.seq, delivery_id, outcome)
    return json_response(
        {
            "ok": outcome.ok,
            "status": outcome.status,
            "event_id": event.id,
            "error": outcome.error,
        }
    )


def _record_test(
    ctx: Ctx, webhook_id: str, event_seq: int, delivery_id: str, outcome: AttemptOutcome
) -> None:
    now = now_ms()
    with ctx.server.db.transaction() as conn:
        conn.execute(
            "INSERT INTO deliveries (id, webhook_id, event_seq, attempt, try_no, state, due_ms, "
            "created_ms, attempted_ms, status, ok, error, duration_ms) "
            "VALUES (?, ?, ?, 1, 1, 'done', ?, ?, ?, ?, ?, ?, ?)",
            (
                delivery_id,
                webhook_id,
                event_seq,
                now,
                now,
                now,
                outcome.status,
                int(outcome.ok),
                outcome.error,
                outcome.duration_ms,
            ),
        )
        note_outcome(conn, webhook_id, outcome, now)


async def rotate_secret(ctx: Ctx) -> Response:
    row = find_webhook(ctx)
    body = await read_object(ctx.request, ROTATE, ctx.server.settings.max_json_bytes)
    grace = body.get("grace_seconds", 86400)
    secret = new_signing_secret()
    expires = now_ms() + grace * 1000 if grace > 0 else None
    with ctx.server.db.transaction() as conn:
        conn.execute(
            "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_expires_ms = ? "
            "WHERE id = ?",
            (secret, row["secret"] if expires else None, expires, row["id"]),
        )
    return json_response(
        {"signing_secret": secret, "previous_expires_at": iso(expires) if expires else None}
    )


_BASE = "/v1/workspaces/{workspace_id}/webhooks"
_ACTION = "manage webhooks"
routes = [
    api(
        "POST",
        _BASE,
        create_webhook,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Subscribe a URL to events (the signing secret is returned once)",
            "webhooks",
            status=201,
            body=CREATE,
            response=WEBHOOK_CREATED,
        ),
    ),
    api(
        "GET",
        _BASE,
        list_webhooks,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Webhook subscriptions with their last delivery",
            "webhooks",
            response=obj(["webhooks"], webhooks={"type": "array", "items": WEBHOOK}),
        ),
    ),
    api(
        "PATCH",
        _BASE + "/{webhook_id}",
        update_webhook,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Change a subscription (url, events, namespace, description, enabled)",
            "webhooks",
            body=UPDATE,
            response=WEBHOOK,
            errors=(404,),
        ),
    ),
    api(
        "DELETE",
        _BASE + "/{webhook_id}",
        delete_webhook,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Delete a subscription (and its queued deliveries)",
            "webhooks",
            response=obj(
                ["webhook_id", "deleted"],
                webhook_id={"type": "string"},
                deleted={"type": "boolean"},
            ),
            errors=(404,),
        ),
    ),
    api(
        "POST",
        _BASE + "/{webhook_id}/test",
        test_webhook,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "Send a webhook.test event now and report the receiver's answer",
            "webhooks",
            response=TEST_RESULT,
            errors=(404,),
        ),
    ),
    api(
        "POST",
        _BASE + "/{webhook_id}/rotate-secret",
        rotate_secret,
        access=Access.ADMIN,
        admin_action=_ACTION,
        operation=Operation(
            "New signing secret; the old one also signs until the grace period ends",
            "webhooks",
            body=ROTATE,
            body_required=False,
            response=ROTATION,
            errors=(404,),
        ),
    ),
]
