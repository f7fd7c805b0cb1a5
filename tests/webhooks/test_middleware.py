"""The ASGI middleware serves one path of an existing app and passes everything else on; in
queued mode it runs its workers inside the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.webhooks.conftest import SECRET, Recorder, ServerThread, post
from trove_webhooks import WebhookRouter
from trove_webhooks.middleware import TroveWebhookMiddleware
from trove_webhooks.testing import signed_delivery


def host_app(recorder: Recorder) -> Starlette:
    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("the host app")

    middleware = [
        Middleware(
            TroveWebhookMiddleware, router=recorder.router, secret=SECRET, path="/trove/events"
        )
    ]
    return Starlette(routes=[Route("/", home)], middleware=middleware)


def test_deliveries_at_the_path_are_received_with_or_without_a_trailing_slash(
    recorder: Recorder,
) -> None:
    with TestClient(host_app(recorder)) as client:
        assert post(client, signed_delivery(secret=SECRET), "/trove/events").status_code == 200
        assert post(client, signed_delivery(secret=SECRET), "/trove/events/").status_code == 200
    assert len(recorder.calls) == 2


def test_other_requests_reach_the_wrapped_app(recorder: Recorder) -> None:
    with TestClient(host_app(recorder)) as client:
        assert client.get("/").text == "the host app"
        assert client.get("/elsewhere").status_code == 404


def test_the_middleware_under_a_real_uvicorn_server(recorder: Recorder) -> None:
    with ServerThread(host_app(recorder)) as server:
        delivery = signed_delivery(secret=SECRET)
        response = httpx.post(
            server.url + "/trove/events", content=delivery.body, headers=delivery.headers
        )
        home = httpx.get(server.url + "/")
    assert response.json()["status"] == "processed"
    assert home.text == "the host app"


# --- queued mode -----------------------------------------------------------------------------


def test_queued_workers_run_inside_the_wrapped_apps_lifespan(tmp_path: Any) -> None:
    """They start once the app has started and stop, finishing the event in hand, before its
    shutdown: a handler may use what the app opens."""
    url = f"sqlite:///{tmp_path}/inbox.db"
    seen: list[str] = []
    started = threading.Event()
    router = WebhookRouter()

    @router.on("file.written")
    async def uses_the_app(event: Any) -> None:
        seen.append("handler sees " + ("an open app" if "app up" in seen else "nothing"))
        started.set()
        await asyncio.sleep(0.3)
        seen.append("handler done")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        seen.append("app up")
        yield
        seen.append("app down")

    middleware = [
        Middleware(
            TroveWebhookMiddleware,
            router=router,
            secret=SECRET,
            inbox=url,
            inbox_options={"poll_seconds": 0.05},
        )
    ]
    app = Starlette(middleware=middleware, lifespan=lifespan)
    with TestClient(app) as client:
        delivery = signed_delivery("file.written", secret=SECRET)
        assert post(client, delivery, "/trove/events").status_code == 202
        assert started.wait(15)
    assert seen == ["app up", "handler sees an open app", "handler done", "app down"]


def test_a_queued_middleware_under_a_real_uvicorn_server(tmp_path: Any, recorder: Recorder) -> None:
    app = Starlette(
        middleware=[
            Middleware(
                TroveWebhookMiddleware,
                router=recorder.router,
                secret=SECRET,
                inbox=f"sqlite:///{tmp_path}/inbox.db",
                workers=2,
                inbox_options={"poll_seconds": 0.05},
            )
        ]
    )
    deliveries = [signed_delivery(secret=SECRET) for _ in range(4)]
    with ServerThread(app) as server:
        answers = [
            httpx.post(server.url + "/trove/events", content=d.body, headers=d.headers)
            for d in deliveries
        ]
        deadline = time.monotonic() + 15
        while len(recorder.calls) < 4:
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)
    assert {a.status_code for a in answers} == {202}
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
