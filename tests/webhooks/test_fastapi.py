"""FastAPI: the router factory and the ``verified_event`` dependency, via TestClient and a
real uvicorn server; in queued mode the router's lifespan runs its workers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder, ServerThread, post
from trove_sdk import Event, FileWritten
from trove_webhooks import WebhookRouter
from trove_webhooks.fastapi import create_router, verified_event
from trove_webhooks.inbox import open_sync_inbox
from trove_webhooks.testing import signed_delivery


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


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


# --- queued mode -----------------------------------------------------------------------------


def queued_api(router: WebhookRouter, url: str) -> FastAPI:
    api = FastAPI()
    api.include_router(
        create_router(router, secret=SECRET, inbox=url, inbox_options={"poll_seconds": 0.05})
    )
    return api


async def count_worker_tasks() -> int:
    return sum(t.get_name().startswith("trove-inbox-worker-") for t in asyncio.all_tasks())


def test_a_queued_router_runs_its_handlers_with_workers_the_apps_lifespan_starts(
    tmp_path: Any, recorder: Recorder
) -> None:
    deliveries = [signed_delivery("file.written", secret=SECRET) for _ in range(3)]
    with TestClient(queued_api(recorder.router, f"sqlite:///{tmp_path}/inbox.db")) as client:
        assert client.portal is not None
        assert client.portal.call(count_worker_tasks) == 1  # started with the app
        assert [post(client, d, "/trove/events").status_code for d in deliveries] == [202] * 3
        wait_until(lambda: len(recorder.calls) == 3)
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
    assert all(context.queued for _, context in recorder.calls)


def test_a_queued_router_under_a_real_uvicorn_server_finishes_its_events_at_shutdown(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    started, finished = threading.Event(), threading.Event()
    router = WebhookRouter()

    @router.on("exec.completed")
    async def slow(event: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.set()

    with ServerThread(queued_api(router, url)) as server:
        delivery = signed_delivery("exec.completed", secret=SECRET)
        response = httpx.post(
            server.url + "/trove/events", content=delivery.body, headers=delivery.headers
        )
        assert started.wait(15)
    assert response.status_code == 202
    assert finished.is_set()  # the server's shutdown waited for it
    box = open_sync_inbox(url)
    assert box.stats()["done"] == 1
    box.close()
