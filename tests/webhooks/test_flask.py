"""Flask: the blueprint and ``init_app`` on the sync core, via the test client and a real
threaded WSGI server; the ``verified_event`` decorator for a custom view; queued mode's worker
thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder
from trove_sdk import ExecCompleted
from trove_webhooks import WebhookRouter
from trove_webhooks.flask import create_blueprint, init_app, verified_event
from trove_webhooks.inbox import open_sync_inbox
from trove_webhooks.testing import post_delivery, signed_delivery


def flask_app(router: WebhookRouter, **options: Any) -> Flask:
    app = Flask(__name__)
    init_app(app, router, secret=SECRET, path="/trove/events", **options)
    return app


def test_init_app_processes_a_delivery_and_answers_duplicates(recorder: Recorder) -> None:
    client = flask_app(recorder.router).test_client()
    delivery = signed_delivery("file.written", secret=SECRET)
    first = client.post("/trove/events", data=delivery.body, headers=delivery.headers)
    second = client.post("/trove/events", data=delivery.body, headers=delivery.headers)
    assert first.get_json() == {"status": "processed", "event_id": delivery.event_id}
    assert second.get_json()["status"] == "duplicate"
    assert len(recorder.calls) == 1


def test_a_bad_signature_is_a_400_with_the_reason(recorder: Recorder) -> None:
    client = flask_app(recorder.router).test_client()
    delivery = signed_delivery(secret=OLD_SECRET)
    response = client.post("/trove/events", data=delivery.body, headers=delivery.headers)
    assert response.status_code == 400
    assert response.get_json()["reason"] == "mismatch"


def test_a_get_is_our_json_405_not_flasks_html(recorder: Recorder) -> None:
    response = flask_app(recorder.router).test_client().get("/trove/events")
    assert response.status_code == 405
    assert response.get_json()["reason"] == "method"


def test_the_blueprint_takes_a_url_prefix(recorder: Recorder) -> None:
    app = Flask(__name__)
    app.register_blueprint(create_blueprint(recorder.router, secret=SECRET, url_prefix="/hooks"))
    delivery = signed_delivery(secret=SECRET)
    assert post_delivery(app, delivery, path="/hooks/").json()["status"] == "processed"


def test_the_sync_sqlite_store_works_under_wsgi_without_an_event_loop(
    recorder: Recorder, tmp_path: Any
) -> None:
    client = flask_app(recorder.router, store=f"sqlite:///{tmp_path}/hooks.db").test_client()
    delivery = signed_delivery(secret=SECRET)
    client.post("/trove/events", data=delivery.body, headers=delivery.headers)
    again = client.post("/trove/events", data=delivery.body, headers=delivery.headers)
    assert again.get_json()["status"] == "duplicate"


def test_verified_event_hands_the_typed_event_to_a_custom_view() -> None:
    app = Flask(__name__)

    @app.post("/custom")
    @verified_event(secret=SECRET)
    def custom(event: ExecCompleted) -> dict[str, Any]:
        return {"exit_code": event.data.exit_code}

    delivery = signed_delivery("exec.completed", secret=SECRET)
    response = app.test_client().post("/custom", data=delivery.body, headers=delivery.headers)
    assert response.get_json() == {"exit_code": 0}
    forged = app.test_client().post(
        "/custom", data=delivery.body, headers={**delivery.headers, "X-Trove-Signature": "x"}
    )
    assert forged.status_code == 400


def test_verified_event_refuses_an_oversized_body_before_the_view_runs() -> None:
    app = Flask(__name__)
    called: list[Any] = []

    @app.post("/custom")
    @verified_event(secret=SECRET, max_body_bytes=1024)
    def custom(event: Any) -> dict[str, Any]:
        called.append(event)
        return {}

    delivery = signed_delivery("file.written", secret=SECRET, data={"path": "w/" + "a" * 2000})
    response = app.test_client().post("/custom", data=delivery.body, headers=delivery.headers)
    assert response.status_code == 413
    assert response.get_json()["reason"] == "size"
    assert called == []


def test_verified_event_takes_a_comma_separated_rotation_like_the_receiver() -> None:
    app = Flask(__name__)

    @app.post("/custom")
    @verified_event(secret=f"{SECRET}, {OLD_SECRET}")
    def custom(event: Any) -> dict[str, Any]:
        return {"id": event.id}

    delivery = signed_delivery("file.written", secret=OLD_SECRET)
    response = app.test_client().post("/custom", data=delivery.body, headers=delivery.headers)
    assert response.get_json() == {"id": delivery.event_id}


@pytest.fixture
def flask_server(recorder: Recorder, tmp_path: Any) -> Iterator[str]:
    app = flask_app(recorder.router, store=f"sqlite:///{tmp_path}/hooks.db")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_under_a_real_threaded_server_concurrent_duplicates_run_the_handler_once(
    flask_server: str, recorder: Recorder
) -> None:
    delivery = signed_delivery("file.written", secret=SECRET)

    def send(_: int) -> int:
        response = httpx.post(
            flask_server + "/trove/events", content=delivery.body, headers=delivery.headers
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(24)))
    assert len(recorder.calls) == 1
    assert set(statuses) <= {200, 409}


# --- queued mode -----------------------------------------------------------------------------


def test_queued_init_app_runs_its_handlers_under_a_real_threaded_server(
    recorder: Recorder, tmp_path: Any
) -> None:
    """The workers run in one thread, which the first deliveries start (concurrent ones
    too: once); ``close()`` stops it."""
    app = Flask(__name__)
    receiver = init_app(
        app,
        recorder.router,
        secret=SECRET,
        inbox=f"sqlite:///{tmp_path}/inbox.db",
        workers=2,
        inbox_options={"poll_seconds": 0.05},
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(6)]
    try:
        url = f"http://127.0.0.1:{server.server_port}/trove/events"
        with ThreadPoolExecutor(6) as senders:
            answers = list(
                senders.map(
                    lambda d: httpx.post(url, content=d.body, headers=d.headers), deliveries
                )
            )
        deadline = time.monotonic() + 15
        while len(recorder.calls) < 6:
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)
        threads = [t for t in threading.enumerate() if t.name == "trove-inbox-workers"]
        assert len(threads) == 1
    finally:
        server.shutdown()
        thread.join(5)
        receiver.close()
    assert {a.status_code for a in answers} == {202}
    assert sorted(recorder.event_ids) == sorted(d.event_id for d in deliveries)
    assert not [t for t in threading.enumerate() if t.name == "trove-inbox-workers"]


def test_queued_with_workers_0_leaves_events_for_a_worker_process(
    recorder: Recorder, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    app = Flask(__name__)
    receiver = init_app(app, recorder.router, secret=SECRET, inbox=url, workers=0)
    response = post_delivery(app, signed_delivery(secret=SECRET), path="/trove/events")
    time.sleep(0.2)
    receiver.close()
    assert response.status_code == 202
    assert recorder.calls == []
    box = open_sync_inbox(url)
    assert box.stats()["pending"] == 1
    box.close()
