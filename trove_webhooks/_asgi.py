"""Serving an ``AsyncReceiver`` from raw ASGI: used by ``create_app`` and the middleware."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from trove_webhooks.receiver import AsyncReceiver, LowerHeaders, Outcome

__all__ = ["read_capped", "send_outcome", "serve_delivery"]


async def read_capped(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it grows past ``limit`` (the rest unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


_JSON = (b"content-type", b"application/json")


async def send_outcome(outcome: Outcome, send: Send) -> None:
    body = outcome.body_bytes()
    headers = [_JSON, (b"content-length", b"%d" % len(body))]
    if outcome.headers:
        headers += [(k.lower().encode(), v.encode()) for k, v in outcome.headers]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def serve_delivery(
    receiver: AsyncReceiver, scope: Scope, receive: Receive, send: Send
) -> None:
    # ASGI header names are lower case already: decode once, lower nothing.
    headers = LowerHeaders({k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]})
    outcome = receiver.precheck(scope["method"], headers)
    if outcome is None:
        body = await read_capped(receive, receiver.max_body_bytes)
        outcome = receiver.too_large() if body is None else await receiver.receive(headers, body)
    await send_outcome(outcome, send)
