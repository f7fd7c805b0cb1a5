"""ASGI middleware that serves Trove deliveries on one path of an existing app.

    app = Starlette(routes=[...], middleware=[
        Middleware(TroveWebhookMiddleware, router=hooks, secret=SECRET, path="/trove/events"),
    ])

Every other request, and every non-HTTP scope, passes straight through to the wrapped app.
In queued mode (``inbox=...``) the middleware also follows the lifespan messages: the
in-process workers (``workers=``, 1 by default) start once the wrapped app has started and
stop, finishing the events in hand, before it shuts down. A server that runs no lifespan gets
them started by the first delivery instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trove_webhooks._asgi import serve_delivery
from trove_webhooks.receiver import AsyncReceiver
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores.base import AsyncIdempotencyStore

__all__ = ["TroveWebhookMiddleware"]


class TroveWebhookMiddleware:
    """Answer deliveries at ``path`` (with or without a trailing slash); pass the rest on.
    ``options`` are ``AsyncReceiver``'s (``inbox``, ``workers``, ``inbox_options``, ...)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: WebhookRouter,
        secret: str | Sequence[str],
        path: str = "/trove/events",
        store: str | AsyncIdempotencyStore | None = None,
        **options: Any,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        self.app = app
        self.paths = {path.rstrip("/") or "/", path.rstrip("/") + "/"}
        self.receiver = AsyncReceiver(router, secret=secret, store=store, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            await serve_delivery(self.receiver, scope, receive, send)
            return
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The wrapped app's lifespan, with the workers inside it: handlers may use what its
        start-up opens and its shutdown closes."""
        receiver = self.receiver

        async def receive_shutdown() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await receiver.stop_workers()
            return message

        async def send_started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                await receiver.start_workers()
            await send(message)

        await self.app(scope, receive_shutdown, send_started)
