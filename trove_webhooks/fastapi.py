"""FastAPI: a router factory, and a dependency that yields the verified typed event.

api = FastAPI()
api.include_router(create_router(hooks, secret=SECRET, store="redis://..."), prefix="/trove")

@api.post("/custom")
async def custom(event: Annotated[Event, Depends(verified_event(secret=SECRET))]): ...

In queued mode (``inbox=...``) the router's lifespan, which FastAPI runs for an included
router, starts the in-process workers (``workers=``, 1 by default) after the app's own start-up
and stops them, finishing the events in hand, before its shutdown; an app that does not run it
gets them started by the first delivery instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from trove_sdk import SIGNATURE_HEADER, Event, WebhookSignatureError, WebhookVerifier
from trove_webhooks._asgi import read_capped
from trove_webhooks.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    AsyncReceiver,
    Outcome,
    secret_list,
    size_refusal,
)
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores.base import AsyncIdempotencyStore

__all__ = ["VerifiedEvent", "create_router", "verified_event"]


def _response(outcome: Outcome) -> Response:
    return Response(
        outcome.body_bytes(),
        status_code=outcome.status,
        headers=dict(outcome.headers),
        media_type="application/json",
    )


def create_router(
    router: WebhookRouter,
    *,
    secret: str | Sequence[str],
    store: str | AsyncIdempotencyStore | None = None,
    prefix: str = "/trove/events",
    **options: Any,
) -> APIRouter:
    """An ``APIRouter`` answering deliveries at exactly ``prefix`` (no trailing slash, which
    a sender would have to follow a redirect for); ``api_router.receiver`` is its core.
    ``options`` are ``AsyncReceiver``'s (``inbox``, ``workers``, ``inbox_options``, ...)."""
    receiver = AsyncReceiver(router, secret=secret, store=store, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await receiver.start_workers()
        try:
            yield
        finally:
            await receiver.stop_workers()

    api_router = APIRouter(prefix=prefix.rstrip("/"), lifespan=lifespan)

    async def receive_delivery(request: Request) -> Response:
        headers = list(request.headers.items())
        outcome = receiver.precheck(request.method, headers)
        if outcome is None:
            body = await read_capped(request.receive, receiver.max_body_bytes)
            outcome = (
                receiver.too_large() if body is None else await receiver.receive(headers, body)
            )
        return _response(outcome)

    api_router.add_api_route(
        "",
        receive_delivery,
        methods=["POST"],
        summary="Receive a signed Trove webhook delivery",
        response_class=Response,
    )
    api_router.receiver = receiver  # type: ignore[attr-defined]
    return api_router


class VerifiedEvent:
    """A dependency: the request's verified typed event, or ``400`` with the failed check."""

    def __init__(
        self,
        *,
        secret: str | Sequence[str],
        tolerance_seconds: int = 300,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.verifier = WebhookVerifier(secret_list(secret), tolerance_seconds=tolerance_seconds)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, request: Request) -> Event[Any]:
        body = await read_capped(request.receive, self.max_body_bytes)
        if body is None:
            raise HTTPException(413, detail=size_refusal(self.max_body_bytes).body["detail"])
        try:
            return self.verifier.verify(body, request.headers.get(SIGNATURE_HEADER)).event
        except WebhookSignatureError as exc:
            raise HTTPException(400, detail={"reason": exc.reason, "detail": exc.message}) from exc


def verified_event(
    *,
    secret: str | Sequence[str],
    tolerance_seconds: int = 300,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> VerifiedEvent:
    """``Depends(verified_event(secret=...))`` in a custom endpoint's signature."""
    return VerifiedEvent(
        secret=secret, tolerance_seconds=tolerance_seconds, max_body_bytes=max_body_bytes
    )
