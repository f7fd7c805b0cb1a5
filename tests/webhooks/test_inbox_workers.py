"""In-process inbox workers run whether or not a lifespan starts them: a queued ``create_app``
mounted in another app (whose lifespan Starlette never runs for it) starts them at its first
request, once, on the running loop, and hands back what they hold when that loop ends; the
WSGI receiver runs them in a thread of its own."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.webhooks.conftest import SECRET, Recorder, ServerThread, post
from trove_webhooks import ConfigurationError, DeliveryContext, WebhookRouter, create_app
from trove_webhooks._inbox_workers import HANDED_BACK
from trove_webhooks.inbox import EntryStatus, InboxEntry, open_sync_inbox
from trove_webhooks.inbox.sqlite import SQLiteInbox
from trove_webhooks.testing import signed_delivery
from trove_webhooks.wsgi import create_wsgi_app

FAST = {"poll_seconds": 0.05}


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


async def settle(condition: Callable[[], bool], seconds: float = 15) -> None:
    """``wait_until`` for async tests: the loop keeps running while it waits."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def inbox_counts(url: str) -> dict[str, int]:
    box = open_sync_inbox(url)
    try:
        return box.stats()
    finally:
        box.close()


def mounted(router: WebhookRouter, inbox: Any, **options: Any) -> tuple[Starlette, Starlette]:
    options.setdefault("inbox_options", FAST)
    hooks_app = create_app(router, secret=SECRET, inbox=inbox, **options)
    return Starlette(routes=[Mount("/trove/events", hooks_app)]), hooks_app


def worker_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("trove-inbox-worker-")]


async def count_worker_tasks() -> int:
    return len(worker_tasks())


# --- ASGI: a mounted create_app -------------------------------------------------------------


def test_a_queued_app_mounted_in_another_app_runs_its_handlers(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    parent, _ = mounted(recorder.router, url, workers=2)
    deliveries = [signed_delivery("file.written", secret=SECRET) for _ in range(5)]
    with TestClient(parent) as client:
        assert client.portal is not None
        assert client.portal.call(count_worker_tasks) == 0  # the parent's lifespan ran: not ours
        assert {post(client, d, "/trove/events/").status_code for d in deliveries} == {202}
        wait_until(lambda: len(recorder.calls) == 5)
        assert client.portal.call(count_worker_tasks) == 2
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
    assert all(context.queued for _, context in recorder.calls)
    assert inbox_counts(url)["done"] == 5


def test_a_mounted_queued_app_under_a_real_uvicorn_server(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    parent, _ = mounted(recorder.router, url)
    deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(3)]
    with ServerThread(parent) as server:
        answers = [
            httpx.post(f"{server.url}/trove/events/", content=d.body, headers=d.headers)
            for d in deliveries
        ]
        wait_until(lambda: len(recorder.calls) == 3)
    assert [a.status_code for a in answers] == [202] * 3
    assert inbox_counts(url) == {"pending": 0, "running": 0, "done": 3, "dead": 0}


async def test_concurrent_first_deliveries_start_one_pool(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    parent, hooks_app = mounted(recorder.router, url, workers=3)
    deliveries = [signed_delivery("file.written", secret=SECRET) for _ in range(20)]
    transport = httpx.ASGITransport(app=parent)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = await asyncio.gather(
            *(client.post("/trove/events/", content=d.body, headers=d.headers) for d in deliveries)
        )
        started = len(worker_tasks())
        await settle(lambda: len(recorder.calls) == 20)
    await hooks_app.state.receiver.aclose()  # stops them: the events in hand are finished
    assert {a.status_code for a in answers} == {202}
    assert started == 3
    assert worker_tasks() == []
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)


def deliver_then_end_the_loop(parent: Starlette, delivery: Any, moment: Callable[[], bool]) -> None:
    """Queue ``delivery`` (202) on a loop of its own, and end that loop once ``moment`` holds."""

    async def deliver_and_leave() -> None:
        transport = httpx.ASGITransport(app=parent)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/trove/events/", content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 202
            await settle(moment)

    asyncio.run(deliver_and_leave())


def test_when_the_loop_ends_mid_handler_the_event_is_handed_back_not_left_to_its_lease(
    inbox_url: str,
) -> None:
    """A mounted app's workers end with the loop that started them; the event they held is
    pending again at once, and the next loop's workers run it (its second attempt)."""
    url = inbox_url
    attempts: list[int] = []
    started = threading.Event()
    router = WebhookRouter()

    @router.on("file.written")
    async def slow_the_first_time(event: Any, context: DeliveryContext) -> None:
        attempts.append(context.attempt)
        if context.attempt == 1:
            started.set()
            await asyncio.Event().wait()  # until the loop is shut down

    parent, _ = mounted(router, url)
    delivery = signed_delivery("file.written", secret=SECRET)

    deliver_then_end_the_loop(parent, delivery, started.is_set)  # cancels the handler mid-run

    box = open_sync_inbox(url)
    entry = box.get(delivery.event_id)
    box.close()
    assert entry is not None
    assert entry.status is EntryStatus.PENDING  # not 'running' until its lease (60 s) runs out
    assert entry.last_error == HANDED_BACK
    assert entry.run_at < time.time() + 5  # due now, not at the lease's end (a minute away)
    with TestClient(parent) as client:
        assert client.get("/trove/events/healthz").status_code == 200  # a probe starts them too
        wait_until(lambda: attempts == [1, 2])
    assert inbox_counts(url)["done"] == 1


class SlowToAnswerInbox(SQLiteInbox):
    """Takes an entry at once, then answers late: the loop can end in between."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.claimed = threading.Event()

    def claim(self, *, lease_seconds: float) -> InboxEntry | None:
        entry = super().claim(lease_seconds=lease_seconds)
        if entry is not None:
            self.claimed.set()
            time.sleep(0.3)
        return entry


def test_an_entry_claimed_as_the_loop_ends_is_handed_back_too(
    tmp_path: Any, recorder: Recorder
) -> None:
    inbox = SlowToAnswerInbox(f"{tmp_path}/inbox.db")
    parent, _ = mounted(recorder.router, inbox)
    delivery = signed_delivery("file.written", secret=SECRET)

    # The loop ends while the claim's answer is on its way.
    deliver_then_end_the_loop(parent, delivery, inbox.claimed.is_set)

    entry = inbox.get(delivery.event_id)
    inbox.close()
    assert recorder.calls == []
    assert entry is not None
    assert (entry.status, entry.attempts, entry.last_error) == (
        EntryStatus.PENDING,
        1,
        HANDED_BACK,
    )


# --- WSGI: the sync receiver's worker thread ------------------------------------------------


def wsgi_client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")


def inbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "trove-inbox-workers"]


def test_the_wsgi_receiver_runs_its_handlers_in_a_worker_thread(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    app = create_wsgi_app(recorder.router, secret=SECRET, inbox=url, inbox_options=FAST)
    deliveries = [signed_delivery("file.written", secret=SECRET) for _ in range(4)]
    with wsgi_client(app) as client:
        assert inbox_threads() == []  # nothing starts before the first request
        assert {post(client, d).status_code for d in deliveries} == {202}
        wait_until(lambda: len(recorder.calls) == 4)
        assert len(inbox_threads()) == 1
    app.close()  # type: ignore[attr-defined]
    assert inbox_threads() == []
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
    assert all(context.queued for _, context in recorder.calls)


def test_closing_the_wsgi_receiver_finishes_the_events_in_hand(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    started, finished = threading.Event(), threading.Event()
    router = WebhookRouter()

    @router.on("file.written")
    def slow(event: Any) -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    app = create_wsgi_app(router, secret=SECRET, inbox=url, inbox_options=FAST)
    with wsgi_client(app) as client:
        assert post(client, signed_delivery("file.written", secret=SECRET)).status_code == 202
    assert started.wait(15)
    app.close()  # type: ignore[attr-defined]
    assert finished.is_set()
    assert inbox_counts(url)["done"] == 1


def test_a_wsgi_probe_starts_the_workers_for_what_an_earlier_process_left(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    earlier = create_wsgi_app(recorder.router, secret=SECRET, inbox=url, workers=0)
    with wsgi_client(earlier) as client:
        assert post(client, signed_delivery(secret=SECRET)).status_code == 202
    earlier.close()  # type: ignore[attr-defined]
    assert recorder.calls == [] and inbox_counts(url)["pending"] == 1  # workers=0: left queued

    app = create_wsgi_app(recorder.router, secret=SECRET, inbox=url, inbox_options=FAST)
    with wsgi_client(app) as client:
        assert client.get("/healthz").status_code == 200
        wait_until(lambda: len(recorder.calls) == 1)
    app.close()  # type: ignore[attr-defined]


def test_workers_and_their_options_are_checked_at_construction(
    tmp_path: Any, recorder: Recorder
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    with pytest.raises(ConfigurationError, match="workers must be 0 or more"):
        create_wsgi_app(recorder.router, secret=SECRET, inbox=url, workers=-1)
    with pytest.raises(TypeError, match="max_atempts"):
        create_app(recorder.router, secret=SECRET, inbox=url, inbox_options={"max_atempts": 3})


def test_uwsgi_without_threads_is_reported(
    tmp_path: Any,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Threads an app starts may never run there: said at construction, not discovered later."""
    url = f"sqlite:///{tmp_path}/inbox.db"
    warned = {}
    for name, options in [
        ("no threads", {}),
        ("--enable-threads", {"enable-threads": True}),
        ("--threads 4", {"threads": b"4"}),
    ]:
        monkeypatch.setitem(sys.modules, "uwsgi", SimpleNamespace(opt=options))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="trove_webhooks.inbox"):
            create_wsgi_app(recorder.router, secret=SECRET, inbox=url).close()  # type: ignore[attr-defined]
        warned[name] = "--enable-threads" in caplog.text
    assert warned == {"no threads": True, "--enable-threads": False, "--threads 4": False}
