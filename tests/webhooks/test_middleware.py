"""The ASGI middleware serves one path of an existing app and passes everything else on."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.webhooks.conftest import SECRET, Recorder, ServerThread, post
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
