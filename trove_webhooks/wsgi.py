"""WSGI: a standalone receiver app and a middleware for an existing WSGI app.

Both use the sync ``Receiver`` and a sync store, so nothing here needs an event loop (async
handlers, if any, run in a fresh loop per call). In queued mode (``inbox=...``) the in-process
workers (``workers=``, 1 by default; 0 for ``trove webhooks worker`` processes instead) run on
an event loop in a background thread: the first delivery or ``/healthz`` starts it, ``close()``
or the interpreter's exit stops it once the events in hand are finished.

    application = create_wsgi_app(hooks, secret=SECRET, store="sqlite:///hooks.db")
    application = WebhookWSGIMiddleware(django_app, router=hooks, secret=SECRET)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from trove_webhooks.metrics import CONTENT_TYPE
from trove_webhooks.receiver import Outcome, Receiver
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores.base import IdempotencyStore

__all__ = ["WebhookWSGIMiddleware", "create_wsgi_app", "environ_headers", "read_wsgi_body"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """Request headers from a WSGI environ, lower-case names."""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def read_wsgi_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The body, or ``None`` when it is larger than ``limit`` (reads at most limit + 1)."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit():
        length = int(declared)
        return None if length > limit else stream.read(length)
    body: bytes = stream.read(limit + 1)
    return None if len(body) > limit else body


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def _respond(outcome: Outcome, start_response: StartResponse) -> list[bytes]:
    body = outcome.body_bytes()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(_status_line(outcome.status), headers + list(outcome.headers))
    return [body]


def serve_wsgi_delivery(
    receiver: Receiver, environ: dict[str, Any], start_response: StartResponse
) -> list[bytes]:
    headers = environ_headers(environ)
    outcome = receiver.precheck(environ.get("REQUEST_METHOD", "GET"), headers)
    if outcome is None:
        body = read_wsgi_body(environ, receiver.max_body_bytes)
        outcome = receiver.too_large() if body is None else receiver.receive(headers, body)
    return _respond(outcome, start_response)


class _ReceiverWSGIApp:
    def __init__(self, receiver: Receiver, path: str) -> None:
        self.receiver = receiver
        self.path = path.rstrip("/") or "/"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = (environ.get("PATH_INFO") or "/").rstrip("/") or "/"
        if path == self.path:
            return serve_wsgi_delivery(self.receiver, environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            # A probe may be the only request a restarted receiver gets for a while: start
            # the workers, so entries an earlier process left wait no longer.
            self.receiver.start_workers()
            ok = self.receiver.healthy()
            return _respond(
                Outcome(200 if ok else 503, {"status": "ok" if ok else "unavailable"}),
                start_response,
            )
        if path == "/metrics" and environ.get("REQUEST_METHOD") == "GET":
            text = self.receiver.metrics.render().encode()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
            return [text]
        return _respond(Outcome(404, {"detail": "Not Found"}), start_response)

    def close(self) -> None:
        """Stop the inbox workers, close the store and inbox (WSGI has no shutdown hook: call
        this at exit)."""
        self.receiver.close()


def create_wsgi_app(
    router: WebhookRouter,
    *,
    secret: str | Sequence[str],
    store: str | IdempotencyStore | None = None,
    path: str = "/",
    **options: Any,
) -> WSGIApp:
    """A WSGI receiver with ``POST <path>``, ``GET /healthz`` and ``GET /metrics``."""
    return _ReceiverWSGIApp(Receiver(router, secret=secret, store=store, **options), path)


class WebhookWSGIMiddleware:
    """Serve deliveries at ``path`` of an existing WSGI app; everything else passes through."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        router: WebhookRouter,
        secret: str | Sequence[str],
        path: str = "/trove/events",
        store: str | IdempotencyStore | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.path = path.rstrip("/") or "/"
        self.receiver = Receiver(router, secret=secret, store=store, **options)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = (environ.get("PATH_INFO") or "/").rstrip("/") or "/"
        if path == self.path:
            return serve_wsgi_delivery(self.receiver, environ, start_response)
        return self.app(environ, start_response)
