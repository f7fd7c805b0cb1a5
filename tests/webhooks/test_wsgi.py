"""WSGI: the standalone app's extra routes and the middleware around an existing WSGI app."""

from __future__ import annotations

from typing import Any

import httpx

from tests.webhooks.conftest import SECRET, Recorder, free_port
from trove_webhooks.testing import post_delivery, signed_delivery
from trove_webhooks.wsgi import WebhookWSGIMiddleware, create_wsgi_app


def client_for(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")


def test_healthz_and_metrics_are_served(recorder: Recorder) -> None:
    app = create_wsgi_app(recorder.router, secret=SECRET)
    post_delivery(app, signed_delivery(secret=SECRET))
    with client_for(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert 'status="processed"' in client.get("/metrics").text
        assert client.get("/nothing").status_code == 404


def test_healthz_is_503_when_the_store_is_unreachable(recorder: Recorder) -> None:
    app = create_wsgi_app(
        recorder.router, secret=SECRET, store=f"redis://127.0.0.1:{free_port()}/0"
    )
    with client_for(app) as client:
        assert client.get("/healthz").status_code == 503


def test_the_middleware_serves_its_path_and_passes_the_rest(recorder: Recorder) -> None:
    def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"host"]

    app = WebhookWSGIMiddleware(host, router=recorder.router, secret=SECRET, path="/trove/events")
    assert (
        post_delivery(app, signed_delivery(secret=SECRET), path="/trove/events").status_code == 200
    )
    with client_for(app) as client:
        assert client.get("/").text == "host"
    assert len(recorder.calls) == 1
