"""Flask: a Blueprint factory, ``init_app``, and a decorator for a custom view.

    app = Flask(__name__)
    init_app(app, hooks, secret=SECRET, path="/trove/events", store="sqlite:///hooks.db")

Flask is WSGI, so the sync ``Receiver`` and a sync store are used: no event loop involved.
In queued mode (``inbox=...``) the in-process workers (``workers=``, 1 by default; 0 to run
``trove webhooks worker`` processes instead) run in a background thread that the first
delivery starts — ``receiver.start_workers()`` starts it sooner — and that
``receiver.close()``, or the interpreter's exit, stops once the events in hand are finished.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, request

from trove_sdk import SIGNATURE_HEADER, WebhookSignatureError, WebhookVerifier
from trove_webhooks.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    Outcome,
    Receiver,
    secret_list,
    size_refusal,
)
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores.base import IdempotencyStore
from trove_webhooks.wsgi import read_wsgi_body

__all__ = ["create_blueprint", "init_app", "verified_event"]

F = TypeVar("F", bound=Callable[..., Any])
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _response(outcome: Outcome) -> Response:
    return Response(
        outcome.body_bytes(),
        status=outcome.status,
        headers=list(outcome.headers),
        mimetype="application/json",
    )


def create_blueprint(
    router: WebhookRouter,
    *,
    secret: str | Sequence[str],
    store: str | IdempotencyStore | None = None,
    path: str = "/",
    name: str = "trove_webhooks",
    url_prefix: str | None = None,
    **options: Any,
) -> Blueprint:
    """A Blueprint answering deliveries at ``path``; ``blueprint.receiver`` is its core."""
    receiver = Receiver(router, secret=secret, store=store, **options)
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)

    # Every method reaches the core, so a GET gets our JSON 405 rather than Flask's HTML one.
    @blueprint.route(path, methods=_ANY_METHOD)
    def receive_delivery() -> Response:
        headers = list(request.headers.items())
        outcome = receiver.precheck(request.method, headers)
        if outcome is None:
            body = read_wsgi_body(request.environ, receiver.max_body_bytes)
            outcome = receiver.too_large() if body is None else receiver.receive(headers, body)
        return _response(outcome)

    blueprint.receiver = receiver  # type: ignore[attr-defined]
    return blueprint


def init_app(
    app: Flask,
    router: WebhookRouter,
    *,
    secret: str | Sequence[str],
    path: str = "/trove/events",
    store: str | IdempotencyStore | None = None,
    **options: Any,
) -> Receiver:
    """Register the receiver on ``app`` at ``path`` and return it.

    ``options`` are ``Receiver``'s (``inbox``, ``workers``, ``inbox_options``, ...). Flask has
    no shutdown hook: call ``receiver.close()`` at exit to close its store (queued mode's
    workers stop at exit on their own).
    """
    blueprint = create_blueprint(router, secret=secret, store=store, path=path, **options)
    app.register_blueprint(blueprint)
    receiver: Receiver = blueprint.receiver  # type: ignore[attr-defined]
    app.extensions["trove_webhooks"] = receiver
    return receiver


def verified_event(
    *,
    secret: str | Sequence[str],
    tolerance_seconds: int = 300,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Callable[[F], F]:
    """Decorate a view to receive the verified, typed event as its first argument.

    A delivery that fails verification is answered ``400`` with the reason, one larger than
    ``max_body_bytes`` ``413`` unread, before the view runs. This verifies only; deduplicate
    in the view (or use ``create_blueprint``).
    """
    verifier = WebhookVerifier(secret_list(secret), tolerance_seconds=tolerance_seconds)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            body = read_wsgi_body(request.environ, max_body_bytes)
            if body is None:
                return _response(size_refusal(max_body_bytes))
            try:
                verified = verifier.verify(body, request.headers.get(SIGNATURE_HEADER))
            except WebhookSignatureError as exc:
                return _response(
                    Outcome(
                        400, {"status": "rejected", "reason": exc.reason, "detail": exc.message}
                    )
                )
            return view(verified.event, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
