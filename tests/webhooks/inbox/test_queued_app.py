"""Queued mode end to end: ``create_app(..., inbox=...)`` answers 202 only once the delivery is
stored, rejects everything inline mode rejects before it reaches the inbox, and says 503 —
never 2xx — when the inbox cannot take it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from tests.webhooks import test_receiver as receiver
from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder, post
from tests.webhooks.tcp_proxy import TcpProxy
from trove_sdk import sample_event
from trove_webhooks import WebhookRouter, create_app
from trove_webhooks.inbox import open_sync_inbox
from trove_webhooks.testing import SignedDelivery, signed_delivery
from trove_webhooks.wsgi import create_wsgi_app


def test_a_delivery_is_answered_202_and_is_already_in_the_inbox(
    inbox_url: str, recorder: Recorder
) -> None:
    with TestClient(
        create_app(recorder.router, secret=SECRET, inbox=inbox_url, workers=0)
    ) as client:
        delivery = signed_delivery("file.written", secret=SECRET)
        response = post(client, delivery)
    assert response.status_code == 202
    assert response.json() == {"status": "queued", "event_id": delivery.event_id}
    elsewhere = open_sync_inbox(inbox_url)  # a separate connection, as another process
    entry = elsewhere.get(delivery.event_id)
    elsewhere.close()
    assert entry is not None and entry.body == delivery.body
    assert recorder.calls == []  # nothing ran inline


def test_a_duplicate_is_absorbed_by_the_inbox(inbox_url: str, recorder: Recorder) -> None:
    with TestClient(
        create_app(recorder.router, secret=SECRET, inbox=inbox_url, workers=0)
    ) as client:
        delivery = signed_delivery(secret=SECRET)
        post(client, delivery)
        again = post(client, delivery)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"


# A request as (method, content, headers), built when the test runs (signatures are timed).
BadRequest = Callable[[], tuple[str, Any, dict[str, str]]]


def _post(delivery: SignedDelivery, content: Any = None) -> tuple[str, Any, dict[str, str]]:
    return "POST", delivery.body if content is None else content, delivery.headers


def _good() -> SignedDelivery:
    return signed_delivery(payload=sample_event("file.written"), secret=SECRET)


def _at(offset: int) -> BadRequest:
    return lambda: _post(signed_delivery(secret=SECRET, timestamp=int(time.time()) + offset))


def inline_matrix() -> list[Any]:
    """Every bad input the inline tests send (``tests/webhooks/test_receiver.py``'s tables),
    each with the status inline mode answers it with."""
    cases: list[Any] = []

    def add(name: str, status: int, request: BadRequest) -> None:
        cases.append(pytest.param(request, status, id=name))

    for case in receiver.GARBLED_SIGNATURE_HEADERS:
        header = case.values[0]
        body = json.dumps(sample_event("file.written")).encode()
        add(
            f"signature-{case.id}",
            400,
            lambda h=header, b=body: _post(receiver.raw(b, **receiver.signature_header(h))),
        )
    add("wrong-secret", 400, lambda: _post(signed_delivery(secret=OLD_SECRET)))
    add("tampered", 400, lambda: _post(receiver.tampered(_good())))
    for case in receiver.OUTSIDE_THE_WINDOW:
        add(f"timestamp-{case.id}", 400, _at(case.values[0]))
    for case in receiver.NOT_JSON_BODIES:
        add(f"not-json-{case.id}", 400, lambda b=case.values[0]: _post(receiver.signed_raw(b)))
    for case in receiver.NOT_EVENT_PAYLOADS:
        body = json.dumps(case.values[0]).encode()
        add(f"not-an-event-{case.id}", 400, lambda b=body: _post(receiver.signed_raw(b)))
    add("oversized", 413, lambda: _post(receiver.oversized()))
    add(
        "oversized-chunked",
        413,
        lambda: _post(d := receiver.oversized(), receiver.in_chunks(d.body)),
    )
    for method in receiver.WRONG_METHODS:
        add(f"method-{method}", 405, lambda m=method: (m, b"", {}))
    for content_type in receiver.WRONG_CONTENT_TYPES:
        add(
            f"content-type-{content_type}",
            415,
            lambda c=content_type: _post(_good().with_headers(Content_Type=c)),
        )
    return cases


@pytest.fixture(params=["asgi", "wsgi"])
def queued_client(
    request: pytest.FixtureRequest, inbox_url: str, recorder: Recorder
) -> Iterator[httpx.Client]:
    """A queued-mode receiver (no workers) with the inline tests' small body limit."""
    options: dict[str, Any] = {
        "secret": SECRET,
        "inbox": inbox_url,
        "max_body_bytes": receiver.SMALL_BODY_LIMIT,
    }
    if request.param == "asgi":
        with TestClient(create_app(recorder.router, workers=0, **options)) as client:
            yield client
        return
    app = create_wsgi_app(recorder.router, **options)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        yield client
    app.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("bad", "status"), inline_matrix())
def test_what_inline_mode_rejects_is_rejected_alike_and_never_reaches_the_inbox(
    queued_client: httpx.Client, inbox_url: str, recorder: Recorder, bad: BadRequest, status: int
) -> None:
    method, content, headers = bad()
    response = queued_client.request(method, "/", content=content, headers=headers)
    assert response.status_code == status
    assert recorder.calls == []
    box = open_sync_inbox(inbox_url)
    try:
        assert sum(box.stats().values()) == 0
    finally:
        box.close()


def test_an_event_without_a_handler_is_ignored_not_queued(inbox_url: str) -> None:
    router = WebhookRouter()
    router.on("file.written", lambda e: None)
    with TestClient(create_app(router, secret=SECRET, inbox=inbox_url, workers=0)) as client:
        assert (
            post(client, signed_delivery("key.revoked", secret=SECRET)).json()["status"]
            == "ignored"
        )


def test_in_process_workers_run_the_handlers_after_the_202(
    inbox_url: str, recorder: Recorder
) -> None:
    app = create_app(
        recorder.router,
        secret=SECRET,
        inbox=inbox_url,
        workers=2,
        inbox_options={"poll_seconds": 0.05},
    )
    deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(10)]
    with TestClient(app) as client:
        assert {post(client, d).status_code for d in deliveries} == {202}
        deadline = time.monotonic() + 15
        while len(recorder.calls) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        metrics = client.get("/metrics").text
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
    assert all(ctx.queued for _, ctx in recorder.calls)
    assert 'trove_webhook_inbox_events{status="done"} 10' in metrics
    assert 'trove_webhook_inbox_runs_total{outcome="done",type="exec.completed"} 10' in metrics


def test_the_wsgi_receiver_queues_with_the_sync_inbox(inbox_url: str, recorder: Recorder) -> None:
    app = create_wsgi_app(recorder.router, secret=SECRET, inbox=inbox_url)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        response = post(client, signed_delivery(secret=SECRET))
    app.close()  # type: ignore[attr-defined]
    assert response.status_code == 202


def test_an_unwritable_sqlite_inbox_is_a_503(tmp_path: object, recorder: Recorder) -> None:
    blocker = f"{tmp_path}/not-a-dir"
    open(blocker, "w").close()  # the inbox's directory is a file: nothing can be stored
    app = create_app(
        recorder.router, secret=SECRET, inbox=f"sqlite:///{blocker}/inbox.db", workers=0
    )
    with TestClient(app) as client:
        response = post(client, signed_delivery(secret=SECRET))
        health = client.get("/healthz")
    assert response.status_code == 503
    assert health.status_code == 503


@pytest.mark.postgres
async def test_postgres_down_is_a_503_and_nothing_acknowledged_is_lost(postgres_url: str) -> None:
    from tests.webhooks.conftest import drop_postgres_table

    table = f"test_inbox_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).up()
    url = (
        f"postgresql://{parts.username}@127.0.0.1:{proxy.port}{parts.path}?table={table}&timeout=1"
    )
    recorder = Recorder()
    app = create_app(recorder.router, secret=SECRET, inbox=url, workers=0)
    acked: list[str] = []
    answers: list[int] = []

    async def deliver(client: httpx.AsyncClient) -> int:
        d = signed_delivery(secret=SECRET)
        r = await client.post("/", content=d.body, headers=d.headers)
        answers.append(r.status_code)
        if r.status_code == 202:
            acked.append(d.event_id)
        return r.status_code

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            before = [await deliver(client) for _ in range(3)]
            proxy.down()
            during = [await deliver(client) for _ in range(3)]
            proxy.up()
            # The pool may still be backing off from failed reconnects; a sender's retries
            # get through within seconds.
            deadline = time.monotonic() + 10
            while await deliver(client) != 202:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            after = [await deliver(client) for _ in range(3)]
        await app.state.receiver.aclose()
        box = open_sync_inbox(f"{postgres_url}?table={table}")
        stored = [e.event_id for e in box.list(limit=100)]
        box.close()
    finally:
        proxy.down()
        drop_postgres_table(postgres_url, table)
    assert before == [202] * 3 and during == [503] * 3 and after == [202] * 3
    assert set(answers) == {202, 503}  # never a 2xx for something not stored
    assert sorted(stored) == sorted(acked)
