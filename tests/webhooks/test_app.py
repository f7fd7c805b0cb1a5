"""``create_app``: the Starlette receiver — concurrency, health, metrics, mounting, lifespan."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.webhooks.conftest import SECRET, Recorder, ServerThread, free_port, post
from trove_sdk import FileWritten
from trove_webhooks import ConfigurationError, WebhookRouter, create_app
from trove_webhooks.testing import apost_delivery, signed_delivery


def slow_router(seen: list[str], delay: float = 0.05) -> WebhookRouter:
    router = WebhookRouter()

    @router.on(FileWritten)
    async def index(event: FileWritten) -> None:
        seen.append(event.id)
        await asyncio.sleep(delay)

    return router


async def test_a_hundred_concurrent_identical_deliveries_run_the_handler_once(
    store_url: str,
) -> None:
    seen: list[str] = []
    app = create_app(slow_router(seen), secret=SECRET, store=store_url)
    delivery = signed_delivery("file.written", secret=SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        responses = await asyncio.gather(
            *(client.post("/", content=delivery.body, headers=delivery.headers) for _ in range(100))
        )
        await app.state.receiver.aclose()
    statuses = Counter(r.json()["status"] for r in responses)
    assert seen == [delivery.event_id]
    assert statuses["processed"] == 1
    assert statuses["processed"] + statuses["in_flight"] + statuses["duplicate"] == 100


async def test_a_delivery_in_flight_elsewhere_is_a_409_with_retry_after() -> None:
    release = asyncio.Event()
    router = WebhookRouter()

    @router.on(FileWritten)
    async def blocked(event: FileWritten) -> None:
        await release.wait()

    app = create_app(router, secret=SECRET, lease_seconds=42)
    delivery = signed_delivery("file.written", secret=SECRET)
    first = asyncio.create_task(apost_delivery(app, delivery))
    await asyncio.sleep(0.05)
    second = await apost_delivery(app, delivery)
    release.set()
    assert second.status_code == 409
    assert second.json()["status"] == "in_flight"
    assert 40 <= int(second.headers["retry-after"]) <= 42
    assert (await first).json()["status"] == "processed"


def test_healthz_answers_ok_when_the_store_is_reachable() -> None:
    with TestClient(create_app(WebhookRouter(), secret=SECRET)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_answers_while_slow_sync_handlers_fill_the_thread_pool(
    tmp_path: Any,
) -> None:
    """Sync handlers take the shared thread pool (40 threads); the store's own calls do not
    queue behind them, so readiness still tells the truth under slow handlers."""
    release = threading.Event()
    running = 0
    router = WebhookRouter()

    @router.on(FileWritten)
    def slow(event: FileWritten) -> None:
        nonlocal running
        running += 1
        release.wait(60)

    app = create_app(router, secret=SECRET, store=f"sqlite:///{tmp_path}/claims.db")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        deliveries = [signed_delivery("file.written", secret=SECRET) for _ in range(40)]
        posts = [asyncio.create_task(apost(client, d)) for d in deliveries]
        try:
            deadline = time.monotonic() + 20
            while running < 40:  # every shared thread is taken by a handler
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            health = await asyncio.wait_for(client.get("/healthz"), 5)
        finally:
            release.set()
            answers = await asyncio.gather(*posts)
        await app.state.receiver.aclose()
    assert health.status_code == 200
    assert {a.json()["status"] for a in answers} == {"processed"}


async def apost(client: httpx.AsyncClient, delivery: Any) -> httpx.Response:
    return await client.post("/", content=delivery.body, headers=delivery.headers)


def test_healthz_answers_503_when_the_store_is_not() -> None:
    app = create_app(WebhookRouter(), secret=SECRET, store=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503


def test_metrics_count_deliveries_duplicates_and_signature_failures(recorder: Recorder) -> None:
    with TestClient(create_app(recorder.router, secret=SECRET)) as client:
        delivery = signed_delivery("file.written", secret=SECRET)
        post(client, delivery)
        post(client, delivery)
        post(client, delivery.with_headers(X_Trove_Signature="t=1,v1=" + "0" * 64))
        client.get("/")
        text = client.get("/metrics").text
    assert 'trove_webhook_deliveries_total{status="processed",type="file.written"} 1' in text
    assert 'trove_webhook_duplicates_total{type="file.written"} 1' in text
    assert 'trove_webhook_signature_failures_total{reason="tolerance"} 1' in text
    assert 'trove_webhook_rejected_requests_total{reason="method"} 1' in text
    assert 'trove_webhook_handler_duration_seconds_count{type="file.written"} 1' in text
    assert 'trove_webhook_handler_duration_seconds_bucket{type="file.written",le="+Inf"} 1' in text


def test_metrics_label_unknown_types_as_unknown(recorder: Recorder) -> None:
    with TestClient(create_app(recorder.router, secret=SECRET)) as client:
        post(client, signed_delivery("made.up", secret=SECRET))
        text = client.get("/metrics").text
    assert 'type="unknown"' in text and "made.up" not in text


@pytest.mark.parametrize("outer", ["starlette", "fastapi"])
def test_the_app_mounts_inside_another_application(outer: str, recorder: Recorder) -> None:
    inner = create_app(recorder.router, secret=SECRET)
    app: Any = (
        Starlette(routes=[Mount("/trove/events", inner)]) if outer == "starlette" else FastAPI()
    )
    if outer == "fastapi":
        app.mount("/trove/events", inner)
    with TestClient(app) as client:
        response = post(client, signed_delivery(secret=SECRET), path="/trove/events/")
        health = client.get("/trove/events/healthz")
    assert response.json()["status"] == "processed"
    assert health.status_code == 200


def test_middleware_added_to_the_app_sees_every_delivery(recorder: Recorder) -> None:
    """Deliveries skip Starlette's stack only while nobody has added middleware to it."""
    app = create_app(recorder.router, secret=SECRET)
    seen: list[str] = []

    class Tag:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope.get("path", scope["type"]))
            await self.inner(scope, receive, send)

    app.add_middleware(Tag)
    with TestClient(app) as client:
        assert post(client, signed_delivery(secret=SECRET)).json()["status"] == "processed"
    assert seen == ["lifespan", "/"]


def test_an_unexpected_store_failure_is_a_500_and_the_app_keeps_serving(
    recorder: Recorder,
) -> None:
    """A bug (not an outage) in a store still gets the server's 500, never a 2xx."""
    from trove_webhooks.stores.memory import AsyncMemoryStore

    class Broken(AsyncMemoryStore):
        fail = True

        async def claim(self, event_id: str, *, lease_seconds: float) -> Any:
            if Broken.fail:
                Broken.fail = False
                raise RuntimeError("a bug in a custom store")
            return await super().claim(event_id, lease_seconds=lease_seconds)

    app = create_app(recorder.router, secret=SECRET, store=Broken())
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        first = post(client, signed_delivery(secret=SECRET))
        second = post(client, signed_delivery(secret=SECRET))
    assert first.status_code == 500
    assert second.json()["status"] == "processed"
    assert len(recorder.calls) == 1


def test_the_delivery_path_is_configurable(recorder: Recorder) -> None:
    with TestClient(create_app(recorder.router, secret=SECRET, path="/hooks")) as client:
        assert post(client, signed_delivery(secret=SECRET), path="/hooks").status_code == 200
        assert post(client, signed_delivery(secret=SECRET), path="/").status_code == 404


def test_without_a_router_every_event_is_logged_as_a_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    with TestClient(create_app(secret=SECRET)) as client:
        delivery = signed_delivery("exec.completed", secret=SECRET)
        assert post(client, delivery).json()["status"] == "processed"
    line = json.loads(capsys.readouterr().out.strip())
    assert line["event"]["id"] == delivery.event_id
    assert line["event"]["data"]["exit_code"] == 0


def test_a_secret_is_required() -> None:
    with pytest.raises(ConfigurationError, match="TROVE_WEBHOOK_SECRET"):
        create_app(WebhookRouter(), secret="")


def test_a_store_that_forgets_before_the_window_closes_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="replayed"):
        create_app(WebhookRouter(), secret=SECRET, store="memory://?retention_seconds=60")


def test_an_unknown_store_scheme_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean redis://"):
        create_app(WebhookRouter(), secret=SECRET, store="redsi://localhost")
