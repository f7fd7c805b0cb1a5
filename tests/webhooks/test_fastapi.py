"""FastAPI: the router factory and the ``verified_event`` dependency, via TestClient and a
real uvicorn server."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder, ServerThread, post
from trove_sdk import Event, FileWritten
from trove_webhooks import WebhookRouter
from trove_webhooks.fastapi import create_router, verified_event
from trove_webhooks.testing import signed_delivery


def fastapi_app(router: WebhookRouter) -> FastAPI:
    api = FastAPI()
    api.include_router(create_router(router, secret=SECRET))
    return api


def test_the_router_factory_processes_and_deduplicates(recorder: Recorder) -> None:
    with TestClient(fastapi_app(recorder.router)) as client:
        delivery = signed_delivery("file.written", secret=SECRET)
        assert post(client, delivery, "/trove/events").json()["status"] == "processed"
        assert post(client, delivery, "/trove/events").json()["status"] == "duplicate"
    assert len(recorder.calls) == 1


def test_the_router_factory_answers_a_bad_signature_with_the_reason(recorder: Recorder) -> None:
    with TestClient(fastapi_app(recorder.router)) as client:
        response = post(client, signed_delivery(secret=OLD_SECRET), "/trove/events")
    assert response.status_code == 400
    assert response.json()["reason"] == "mismatch"


def test_the_dependency_yields_the_verified_typed_event() -> None:
    api = FastAPI()

    @api.post("/custom")
    async def custom(
        event: Annotated[Event[Any], Depends(verified_event(secret=SECRET))],
    ) -> dict[str, Any]:
        assert isinstance(event, FileWritten)
        return {"path": event.data.path}

    with TestClient(api) as client:
        good = post(client, signed_delivery("file.written", secret=SECRET), "/custom")
        bad = post(client, signed_delivery("file.written", secret=OLD_SECRET), "/custom")
    assert good.json() == {"path": "workspace/notes/plan.md"}
    assert bad.status_code == 400
    assert bad.json()["detail"]["reason"] == "mismatch"


def test_the_dependency_takes_a_comma_separated_rotation_and_caps_the_body() -> None:
    api = FastAPI()

    @api.post("/custom")
    async def custom(
        event: Annotated[
            Event[Any],
            Depends(verified_event(secret=f"{SECRET},{OLD_SECRET}", max_body_bytes=1024)),
        ],
    ) -> dict[str, Any]:
        return {"id": event.id}

    old = signed_delivery("file.written", secret=OLD_SECRET)
    big = signed_delivery("file.written", secret=SECRET, data={"path": "w/" + "a" * 2000})
    with TestClient(api) as client:
        assert post(client, old, "/custom").json() == {"id": old.event_id}
        assert post(client, big, "/custom").status_code == 413


def test_under_a_real_uvicorn_server(recorder: Recorder) -> None:
    with ServerThread(fastapi_app(recorder.router)) as server:
        delivery = signed_delivery("exec.completed", secret=SECRET)
        response = httpx.post(
            server.url + "/trove/events", content=delivery.body, headers=delivery.headers
        )
    assert response.json()["status"] == "processed"
    assert recorder.event_ids == [delivery.event_id]
