"""``create_app``: a Starlette application that receives Trove webhooks.

Routes: ``POST <path>`` (deliveries), ``GET /healthz`` (store reachable), ``GET /metrics``
(Prometheus text). Mount it anywhere: ``app.mount("/trove/events", create_app(...))``, and
give Trove the URL with the trailing slash (``.../trove/events/``): Starlette answers the bare
mount path with a redirect, which webhook senders do not follow (``TroveWebhookMiddleware``
serves an exact path instead). The store is opened lazily on first use, so a mounted app
works even though Starlette does not run a mounted app's lifespan; when the lifespan does run
it checks the store at start-up, starts the inbox workers in queued mode, and on shutdown waits
for them to finish the events in hand before closing the store.

Mounted, a queued app starts its workers at the first request it serves (a delivery or its
``/healthz``) on the running loop, and they end with that loop, handing back what they hold.
To have them start with the parent and finish their events at its shutdown, give the parent
the receiver's lifespan::

    hooks_app = create_app(hooks, secret=SECRET, inbox="sqlite:///inbox.db", workers=4)
    app = Starlette(
        routes=[Mount("/trove/events", hooks_app)], lifespan=hooks_app.router.lifespan_context
    )
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from trove_webhooks._asgi import serve_delivery
from trove_webhooks.metrics import CONTENT_TYPE, Metrics
from trove_webhooks.receiver import DEFAULT_MAX_BODY_BYTES, AsyncReceiver
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores.base import DEFAULT_LEASE_SECONDS, AsyncIdempotencyStore

__all__ = ["create_app"]

logger = logging.getLogger("trove_webhooks.app")


class _DeliveryEndpoint:
    """The POST route as a plain ASGI app: the body is read with a cap, never whole."""

    def __init__(self, receiver: AsyncReceiver) -> None:
        self.receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve_delivery(self.receiver, scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path inside this app when it is mounted (Starlette strips ``root_path`` alike)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class _ReceiverApp(Starlette):
    """The receiver's Starlette app: deliveries go straight to the receiver.

    Starlette's error and exception middleware and its router cost about as much per request
    as the rest of a delivery's handling; the receiver answers every outcome itself, and an
    unexpected exception still reaches the server, which logs it and answers 500. Once a user
    adds middleware (``app.add_middleware``), every request takes the full stack, so that it
    sees deliveries too.
    """

    def __init__(self, *, receiver: AsyncReceiver, delivery_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._receiver = receiver
        self._delivery_path = delivery_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and not self.user_middleware
            and _route_path(scope) == self._delivery_path
        ):
            scope["app"] = self
            await serve_delivery(self._receiver, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    router: WebhookRouter | None = None,
    *,
    secret: str | Sequence[str],
    tolerance_seconds: int = 300,
    store: str | AsyncIdempotencyStore | None = None,
    inbox: Any = None,
    workers: int = 1,
    path: str = "/",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    health_path: str = "/healthz",
    metrics_path: str | None = "/metrics",
    inbox_options: dict[str, Any] | None = None,
) -> Starlette:
    """Build the receiver application.

    Parameters:
        router: the handlers; ``None`` logs every event as a JSON line (see ``sink``).
        secret: the signing secret, or a list during a rotation (a comma-separated string too).
        tolerance_seconds: allowed distance between the signed timestamp and now.
        store: idempotency store URL or instance (inline mode); default in-memory.
        inbox: durable inbox URL or instance — queued mode: 202 after a durable insert.
        workers: in queued mode, how many in-process worker tasks run the handlers (0 for
            none: run ``trove webhooks worker`` processes instead).
        path: where deliveries are POSTed.
        max_body_bytes: larger bodies get 413 without being read.
        lease_seconds: how long a claim guards a running handler (and how long a crashed
            receiver's claim blocks a retry).
        inbox_options: keyword arguments for the in-process ``WorkerPool`` (``max_attempts``,
            ``timeout_seconds``, ``backoff_seconds``, ...).

    The workers start with the app's lifespan, or — mounted in another app, whose lifespan
    Starlette does not run for it — at the first request the app serves (see the module
    docstring).
    """
    if router is None:
        from trove_webhooks.sink import json_lines_router

        router = json_lines_router()
    metrics = Metrics()
    receiver = AsyncReceiver(
        router,
        secret=secret,
        tolerance_seconds=tolerance_seconds,
        store=store,
        max_body_bytes=max_body_bytes,
        lease_seconds=lease_seconds,
        metrics=metrics,
        inbox=inbox,
        workers=workers,
        inbox_options=inbox_options,
    )

    async def healthz(request: Request) -> Response:
        # Mounted (no lifespan), a probe may be the only request a restarted receiver gets
        # for a while: start the workers, so entries an earlier process left wait no longer.
        await receiver.start_workers()
        if await receiver.healthy():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    async def metrics_endpoint(request: Request) -> Response:
        gauges = None
        if receiver.inbox is not None:
            gauges = await _inbox_gauges(receiver.inbox)
        return PlainTextResponse(metrics.render(gauges), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not await receiver.healthy():
            logger.warning("the store is not reachable at start-up; /healthz answers 503")
        await receiver.start_workers()
        try:
            yield
        finally:
            await receiver.stop_workers()
            await receiver.aclose()

    routes = [Route(path, _DeliveryEndpoint(receiver))]
    routes.append(Route(health_path, healthz, methods=["GET"]))
    if metrics_path:
        routes.append(Route(metrics_path, metrics_endpoint, methods=["GET"]))
    app = _ReceiverApp(receiver=receiver, delivery_path=path, routes=routes, lifespan=lifespan)
    app.state.receiver = receiver
    app.state.metrics = metrics
    return app


async def _inbox_gauges(inbox: Any) -> dict[str, dict[str, float]]:
    from trove_webhooks.errors import StoreUnavailableError

    try:
        counts = await inbox.stats()
    except StoreUnavailableError:
        return {}
    return {"trove_webhook_inbox_events": {k: float(v) for k, v in counts.items()}}
