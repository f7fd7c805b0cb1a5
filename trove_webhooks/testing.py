"""Helpers for testing your own receiver: signed deliveries of any event type, and posting them.

    from trove_webhooks.testing import signed_delivery, post_delivery

    delivery = signed_delivery("file.written", secret=SECRET, data={"path": "workspace/a.md"})
    response = post_delivery(app, delivery)          # ASGI (Starlette, FastAPI) or WSGI (Flask)
    assert response.json()["status"] == "processed"

Sample data comes from ``trove_sdk.sample_event``, so every type is realistic and parses.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from trove_sdk import SIGNATURE_HEADER, sample_event, sign_webhook

__all__ = ["SignedDelivery", "apost_delivery", "post_delivery", "signed_delivery"]


@dataclass(frozen=True)
class SignedDelivery:
    """A delivery exactly as Trove would send it: raw body bytes and D9 headers."""

    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any] = field(repr=False)

    @property
    def event_id(self) -> str:
        return str(self.payload["id"])

    @property
    def event_type(self) -> str:
        return str(self.payload["type"])

    def with_headers(self, **changes: str | None) -> SignedDelivery:
        """A copy with headers replaced (``None`` removes one); names use ``_`` for ``-``."""
        headers = dict(self.headers)
        for name, value in changes.items():
            key = name.replace("_", "-")
            headers = {k: v for k, v in headers.items() if k.lower() != key.lower()}
            if value is not None:
                headers[key] = value
        return replace(self, headers=headers)


def signed_delivery(
    event_type: str = "webhook.test",
    *,
    secret: str | list[str],
    data: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    namespace: str | None = "alice",
    event_id: str | None = None,
    created_at: str | None = None,
    timestamp: int | None = None,
    attempt: int = 1,
) -> SignedDelivery:
    """Build and sign a delivery. ``payload`` replaces the whole envelope (any JSON object)."""
    envelope = (
        dict(payload)
        if payload is not None
        else sample_event(
            event_type, data=data, namespace=namespace, event_id=event_id, created_at=created_at
        )
    )
    body = json.dumps(envelope, separators=(",", ":")).encode()
    signed_at = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Trove-Webhooks/test",
        SIGNATURE_HEADER: sign_webhook(secret, body, timestamp=signed_at),
        "X-Trove-Event": str(envelope.get("type", "")),
        "X-Trove-Event-Id": str(envelope.get("id", "")),
        "X-Trove-Delivery": f"dlv-test-{envelope.get('id', '')}-{attempt}",
        "X-Trove-Attempt": str(attempt),
    }
    return SignedDelivery(body, headers, envelope)


def _is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


def post_delivery(app: Any, delivery: SignedDelivery, *, path: str = "/") -> Any:
    """POST ``delivery`` to an in-process ASGI or WSGI app; the response has ``status_code``,
    ``headers`` and ``json()`` (an ``httpx``-style response)."""
    if _is_asgi(app):
        from starlette.testclient import TestClient

        # No ``with``: the app's lifespan (which closes its store) is not run per request.
        return TestClient(app).post(path, content=delivery.body, headers=delivery.headers)
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        return client.post(path, content=delivery.body, headers=delivery.headers)


async def apost_delivery(app: Any, delivery: SignedDelivery, *, path: str = "/") -> httpx.Response:
    """POST ``delivery`` to an ASGI app from async test code."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, content=delivery.body, headers=delivery.headers)
