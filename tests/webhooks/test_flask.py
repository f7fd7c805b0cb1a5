"""Flask: the blueprint and ``init_app`` on the sync core, via the test client and a real
threaded WSGI server; the ``verified_event`` decorator for a custom view."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder
from trove_sdk import ExecCompleted
from trove_webhooks import WebhookRouter
from trove_webhooks.flask import create_blueprint, init_app, verified_event
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

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(24)))
    assert len(recorder.calls) == 1
    assert set(statuses) <= {200, 409}
