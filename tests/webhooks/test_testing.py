"""``trove_webhooks.testing``: what users' own tests are built from."""

from __future__ import annotations

import gc
import json
import warnings

import pytest
from flask import Flask

from tests.webhooks.conftest import SECRET, Recorder
from trove_sdk import EVENT_TYPES, WebhookVerifier
from trove_webhooks import create_app
from trove_webhooks.flask import init_app
from trove_webhooks.testing import apost_delivery, post_delivery, signed_delivery


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_a_signed_delivery_of_every_type_verifies_and_parses_to_its_class(event_type: str) -> None:
    delivery = signed_delivery(event_type, secret=SECRET)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    assert type(verified.event) is EVENT_TYPES[event_type]


def test_a_signed_delivery_carries_the_headers_trove_sends() -> None:
    delivery = signed_delivery("file.written", secret=SECRET, attempt=2)
    assert delivery.headers["X-Trove-Event"] == "file.written"
    assert delivery.headers["X-Trove-Event-Id"] == delivery.event_id
    assert delivery.headers["X-Trove-Attempt"] == "2"
    assert delivery.headers["Content-Type"] == "application/json"


def test_data_overrides_the_sample_and_payload_replaces_the_envelope() -> None:
    delivery = signed_delivery("file.written", secret=SECRET, data={"path": "workspace/x"})
    assert json.loads(delivery.body)["data"]["path"] == "workspace/x"
    custom = signed_delivery(secret=SECRET, payload={"anything": True})
    assert json.loads(custom.body) == {"anything": True}


def test_post_delivery_works_for_an_asgi_app(recorder: Recorder) -> None:
    app = create_app(recorder.router, secret=SECRET)
    assert post_delivery(app, signed_delivery(secret=SECRET)).json()["status"] == "processed"


def test_post_delivery_can_be_called_again_on_an_app_with_a_shared_store(
    recorder: Recorder, store_url: str
) -> None:
    """Each call runs the app on a fresh event loop; the store follows it there."""
    app = create_app(recorder.router, secret=SECRET, store=store_url)
    with warnings.catch_warnings():
        # Each call's loop ends with the store's connections open; collect them here.
        warnings.simplefilter("ignore", ResourceWarning)
        answers = [post_delivery(app, signed_delivery(secret=SECRET)) for _ in range(3)]
        del app
        gc.collect()
    assert [a.json()["status"] for a in answers] == ["processed"] * 3


def test_post_delivery_works_for_a_wsgi_app(recorder: Recorder) -> None:
    app = Flask(__name__)
    init_app(app, recorder.router, secret=SECRET, path="/hooks")
    response = post_delivery(app, signed_delivery(secret=SECRET), path="/hooks")
    assert response.json()["status"] == "processed"


async def test_apost_delivery_works_from_async_tests(recorder: Recorder) -> None:
    app = create_app(recorder.router, secret=SECRET)
    response = await apost_delivery(app, signed_delivery(secret=SECRET))
    assert response.json()["status"] == "processed"
