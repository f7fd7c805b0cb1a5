"""The receiver's answers (DESIGN "Receiver answers"), for the ASGI and WSGI twins alike.

Every bad input gets a clear answer and records nothing: after each rejection the same event,
properly signed, is still processed (not taken for a duplicate). The bad inputs are tables and
builders at module level, so queued mode's tests (``tests/webhooks/inbox/test_queued_app.py``)
send the very same ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from tests.webhooks.conftest import OLD_SECRET, SECRET, Recorder, post
from trove_sdk import FileWritten, sample_event, sign_webhook
from trove_webhooks import Receiver, WebhookRouter
from trove_webhooks.testing import SignedDelivery, signed_delivery

MakeClient = Callable[..., httpx.Client]


def raw(body: bytes, **headers: str) -> SignedDelivery:
    base = {"Content-Type": "application/json"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return SignedDelivery(body, base, {})


# --- the bad inputs, shared with queued mode's tests -------------------------------------

GARBLED_SIGNATURE_HEADERS = [
    pytest.param(None, "header", id="missing"),
    pytest.param("", "header", id="empty"),
    pytest.param("garbage", "header", id="garbled"),
    pytest.param("t=abc,v1=" + "0" * 64, "header", id="bad-timestamp"),
    pytest.param("t=1700000000", "header", id="no-v1"),
    pytest.param("v1=" + "0" * 64, "header", id="no-t"),
    pytest.param("t={now},v1=not-hex", "header", id="non-hex-v1"),
]
# Seconds between the signed timestamp and now; the default window is 300 s either way.
OUTSIDE_THE_WINDOW = [
    pytest.param(-301, id="stale"),
    pytest.param(301, id="future"),
    pytest.param(-10_000, id="ancient"),
]
NOT_JSON_BODIES = [
    pytest.param(b"not json", id="text"),
    pytest.param(b'{"id": ', id="truncated"),
    pytest.param(b"\xff\xfe\x00", id="binary"),
    pytest.param(b"", id="empty"),
]
NOT_EVENT_PAYLOADS = [
    pytest.param([], id="array"),
    pytest.param({"hello": "world"}, id="object"),
    pytest.param(
        {**sample_event("file.written"), "data": {"size_bytes": 3}}, id="missing-required-data"
    ),
    pytest.param(42, id="number"),
]
WRONG_METHODS = ["GET", "PUT", "DELETE"]
WRONG_CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", None]
SMALL_BODY_LIMIT = 1024  # max_body_bytes for the oversized cases


def signature_header(header: str | None) -> dict[str, str]:
    """Headers for ``raw()`` carrying one of ``GARBLED_SIGNATURE_HEADERS``."""
    return {} if header is None else {"X_Trove_Signature": header.format(now=int(time.time()))}


def tampered(good: SignedDelivery) -> SignedDelivery:
    """``good`` with its body changed after signing."""
    return SignedDelivery(good.body.replace(b"plan.md", b"evil.sh"), good.headers, good.payload)


def signed_raw(body: bytes) -> SignedDelivery:
    """Arbitrary bytes, correctly signed: only what they say is wrong."""
    return raw(body, X_Trove_Signature=sign_webhook(SECRET, body))


def oversized() -> SignedDelivery:
    """A correctly signed event larger than ``SMALL_BODY_LIMIT``."""
    return signed_delivery("file.written", secret=SECRET, data={"path": "x" * 2000})


def in_chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    """``body`` streamed without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_still_processable(
    client: httpx.Client, recorder: Recorder, event: dict[str, Any]
) -> None:
    good = signed_delivery(payload=event, secret=SECRET)
    response = post(client, good)
    assert response.json()["status"] == "processed"
    assert recorder.event_ids.count(event["id"]) == 1


# --- accepted ---------------------------------------------------------------------------


def test_a_valid_delivery_is_processed_and_the_handler_sees_the_typed_event(
    make_client: MakeClient,
) -> None:
    hooks = WebhookRouter()
    seen: list[FileWritten] = []

    @hooks.on
    def index(event: FileWritten) -> None:
        seen.append(event)

    client = make_client(hooks)
    delivery = signed_delivery("file.written", secret=SECRET, data={"path": "workspace/a.md"})
    response = post(client, delivery)
    assert response.status_code == 200
    assert response.json() == {"status": "processed", "event_id": delivery.event_id}
    assert isinstance(seen[0], FileWritten)
    assert seen[0].data.path == "workspace/a.md"


def test_a_duplicate_delivery_runs_the_handler_once(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router)
    delivery = signed_delivery("exec.completed", secret=SECRET)
    assert post(client, delivery).json()["status"] == "processed"
    again = post(client, delivery)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "event_id": delivery.event_id}
    assert len(recorder.calls) == 1


def test_a_replayed_capture_inside_the_window_is_answered_as_a_duplicate(
    make_client: MakeClient, recorder: Recorder
) -> None:
    """Replay protection inside the window comes from the dedupe store, not the timestamp."""
    client = make_client(recorder.router)
    captured = signed_delivery("file.deleted", secret=SECRET, timestamp=int(time.time()) - 200)
    post(client, captured)
    assert post(client, captured).json()["status"] == "duplicate"
    assert len(recorder.calls) == 1


def test_dedupe_keys_on_the_signed_body_id_not_on_the_event_id_header(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router)
    first = signed_delivery("file.written", secret=SECRET)
    second = signed_delivery("file.written", secret=SECRET).with_headers(
        X_Trove_Event_Id=first.event_id
    )
    post(client, first)
    assert post(client, second).json()["status"] == "processed"
    assert len(recorder.calls) == 2


def test_an_unknown_event_type_is_acknowledged_as_ignored(make_client: MakeClient) -> None:
    hooks = WebhookRouter()
    hooks.on("file.written", lambda event: None)
    client = make_client(hooks)
    delivery = signed_delivery("agent.dreamt", secret=SECRET, data={"about": "sheep"})
    response = post(client, delivery)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "event_id": delivery.event_id}


def test_a_known_type_without_a_handler_is_ignored(make_client: MakeClient) -> None:
    hooks = WebhookRouter()
    hooks.on("file.written", lambda event: None)
    client = make_client(hooks)
    assert post(client, signed_delivery("key.revoked", secret=SECRET)).json()["status"] == "ignored"


def test_on_any_receives_unknown_types_too(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(recorder.router)
    delivery = signed_delivery("agent.dreamt", secret=SECRET, data={"about": "sheep"})
    assert post(client, delivery).json()["status"] == "processed"
    assert recorder.calls[0][0].data == {"about": "sheep"}


def test_the_context_carries_attempt_delivery_id_headers_and_times(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router)
    delivery = signed_delivery("webhook.test", secret=SECRET, attempt=3)
    post(client, delivery)
    _, context = recorder.calls[0]
    assert context.event_id == delivery.event_id
    assert context.attempt == 3
    assert context.delivery_id == delivery.headers["X-Trove-Delivery"]
    assert context.headers["x-trove-event"] == "webhook.test"
    assert abs(context.signed_at - time.time()) < 60
    assert context.received_at.tzinfo is not None
    assert context.queued is False


# --- rotation ---------------------------------------------------------------------------


def test_during_a_rotation_the_old_secret_still_verifies_and_is_reported(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router, secret=[SECRET, OLD_SECRET])
    assert post(client, signed_delivery(secret=OLD_SECRET)).json()["status"] == "processed"
    assert recorder.calls[0][1].secret_index == 1


def test_a_delivery_signed_with_both_secrets_reports_the_new_one(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router, secret=f"{SECRET},{OLD_SECRET}")
    post(client, signed_delivery(secret=[SECRET, OLD_SECRET]))
    assert recorder.calls[0][1].secret_index == 0


# --- bad inputs: 400 with the reason, nothing recorded -----------------------------------


@pytest.mark.parametrize(("header", "reason"), GARBLED_SIGNATURE_HEADERS)
def test_a_missing_or_garbled_signature_header_is_a_400_naming_the_header(
    make_client: MakeClient, recorder: Recorder, header: str | None, reason: str
) -> None:
    client = make_client(recorder.router)
    event = sample_event("file.written")
    body = json.dumps(event).encode()
    response = post(client, raw(body, **signature_header(header)))
    assert response.status_code == 400
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == reason
    assert "X-Trove-Signature" in response.json()["detail"]
    assert recorder.calls == []
    assert_still_processable(client, recorder, event)


def test_a_wrong_secret_is_a_400_mismatch(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(recorder.router)
    event = sample_event("file.written")
    response = post(client, signed_delivery(payload=event, secret=OLD_SECRET))
    assert response.status_code == 400
    assert response.json()["reason"] == "mismatch"
    assert_still_processable(client, recorder, event)


def test_a_tampered_body_is_a_400_mismatch(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(recorder.router)
    event = sample_event("file.written")
    response = post(client, tampered(signed_delivery(payload=event, secret=SECRET)))
    assert response.status_code == 400
    assert response.json()["reason"] == "mismatch"
    assert_still_processable(client, recorder, event)


@pytest.mark.parametrize("offset", OUTSIDE_THE_WINDOW)
def test_a_timestamp_outside_the_window_either_way_is_a_400_tolerance(
    make_client: MakeClient, recorder: Recorder, offset: int
) -> None:
    client = make_client(recorder.router)
    event = sample_event("file.written")
    delivery = signed_delivery(payload=event, secret=SECRET, timestamp=int(time.time()) + offset)
    response = post(client, delivery)
    assert response.status_code == 400
    assert response.json()["reason"] == "tolerance"
    assert_still_processable(client, recorder, event)


def test_the_tolerance_is_configurable(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(recorder.router, tolerance_seconds=30)
    delivery = signed_delivery(secret=SECRET, timestamp=int(time.time()) - 60)
    assert post(client, delivery).json()["reason"] == "tolerance"


@pytest.mark.parametrize("body", NOT_JSON_BODIES)
def test_a_signed_body_that_is_not_json_is_a_400_body(
    make_client: MakeClient, recorder: Recorder, body: bytes
) -> None:
    client = make_client(recorder.router)
    response = post(client, signed_raw(body))
    assert response.status_code == 400
    assert response.json()["reason"] == "body"
    assert recorder.calls == []


@pytest.mark.parametrize("payload", NOT_EVENT_PAYLOADS)
def test_signed_json_that_is_not_an_event_is_a_400_body(
    make_client: MakeClient, recorder: Recorder, payload: Any
) -> None:
    client = make_client(recorder.router)
    response = post(client, signed_raw(json.dumps(payload).encode()))
    assert response.status_code == 400
    assert response.json()["reason"] == "body"
    assert "not a Trove event" in response.json()["detail"]
    assert recorder.calls == []


# --- bad requests refused before verification ------------------------------------------


def test_an_oversized_body_is_a_413(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(recorder.router, max_body_bytes=SMALL_BODY_LIMIT)
    response = post(client, oversized())
    assert response.status_code == 413
    assert response.json()["reason"] == "size"
    assert recorder.calls == []


def test_an_oversized_body_without_a_content_length_is_a_413(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router, max_body_bytes=SMALL_BODY_LIMIT)
    delivery = oversized()
    response = client.post("/", content=in_chunks(delivery.body), headers=delivery.headers)
    assert response.status_code == 413
    assert recorder.calls == []


@pytest.mark.parametrize("method", WRONG_METHODS)
def test_a_wrong_method_is_a_405_that_names_post(
    make_client: MakeClient, recorder: Recorder, method: str
) -> None:
    client = make_client(recorder.router)
    response = client.request(method, "/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("content_type", WRONG_CONTENT_TYPES)
def test_a_wrong_content_type_is_a_415(
    make_client: MakeClient, recorder: Recorder, content_type: str | None
) -> None:
    client = make_client(recorder.router)
    delivery = signed_delivery(secret=SECRET).with_headers(Content_Type=content_type)
    response = post(client, delivery)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert recorder.calls == []


def test_a_content_type_with_a_charset_is_accepted(
    make_client: MakeClient, recorder: Recorder
) -> None:
    client = make_client(recorder.router)
    delivery = signed_delivery(secret=SECRET).with_headers(
        Content_Type="application/json; charset=utf-8"
    )
    assert post(client, delivery).json()["status"] == "processed"


# --- failures ---------------------------------------------------------------------------


def test_a_failing_handler_is_a_500_and_the_redelivery_succeeds(make_client: MakeClient) -> None:
    recorder = Recorder(fail_times=1)
    client = make_client(recorder.router)
    delivery = signed_delivery("exec.completed", secret=SECRET)
    first = post(client, delivery)
    assert first.status_code == 500
    assert first.json()["status"] == "failed"
    assert first.json()["failed_handlers"] == [
        "tests.webhooks.conftest.Recorder.__init__.<locals>.record"
    ]
    retry = post(client, delivery.with_headers(X_Trove_Attempt="2"))
    assert retry.json()["status"] == "processed"
    assert [c.attempt for _, c in recorder.calls] == [1, 2]


def test_the_500_body_does_not_leak_the_exception_text(make_client: MakeClient) -> None:
    hooks = WebhookRouter()

    @hooks.on("file.written")
    def leak(event: Any) -> None:
        raise RuntimeError("password=hunter2")

    client = make_client(hooks)
    response = post(client, signed_delivery("file.written", secret=SECRET))
    assert "hunter2" not in response.text


def test_an_unreachable_store_is_a_503_and_the_handler_does_not_run(
    make_client: MakeClient, recorder: Recorder
) -> None:
    from tests.webhooks.conftest import free_port

    client = make_client(recorder.router, store=f"redis://127.0.0.1:{free_port()}/0")
    response = post(client, signed_delivery(secret=SECRET))
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json()["status"] == "unavailable"
    assert "127.0.0.1" not in response.text
    assert recorder.calls == []


# --- time: the window with a frozen clock (sync core) -----------------------------------


def test_a_capture_replayed_after_the_window_fails_the_timestamp_check() -> None:
    recorder = Recorder()
    receiver = Receiver(recorder.router, secret=SECRET)
    with freeze_time("2026-05-01 12:00:00") as clock:
        delivery = signed_delivery(secret=SECRET)
        assert receiver.receive(delivery.headers, delivery.body).status == 200
        clock.tick(301)
        outcome = receiver.receive(delivery.headers, delivery.body)
    assert outcome.status == 400
    assert outcome.body["reason"] == "tolerance"
    assert len(recorder.calls) == 1


@pytest.mark.parametrize("offset", [-300, 300], ids=["oldest", "newest"])
def test_the_window_includes_its_edges(offset: int) -> None:
    recorder = Recorder()
    receiver = Receiver(recorder.router, secret=SECRET)
    with freeze_time("2026-05-01 12:00:00"):
        delivery = signed_delivery(secret=SECRET, timestamp=int(time.time()) + offset)
        assert receiver.receive(delivery.headers, delivery.body).status == 200


# --- the answer's bytes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"status": "processed", "event_id": 'evt-"quoted"\\é\n\u2028'},
        {"status": "failed", "event_id": "evt-1", "failed_handlers": ["a.b", "c.d"]},
        {"status": "ok", "count": 3, "ratio": 0.5, "none": None},
        {},
        {"status": "duplicate", "event_id": "evt-1"},
        {"event_id": "evt-1", "status": "processed"},
        {"status": "processed", "event_id": 7},
        {"status": ["processed"], "event_id": "evt-1"},
    ],
    ids=[
        "escaped-strings",
        "a-list",
        "numbers",
        "empty",
        "event-answer",
        "event-answer-keys-reversed",
        "event-answer-number-id",
        "event-answer-list-status",
    ],
)
def test_an_answer_is_compact_json_whatever_it_holds(body: dict[str, Any]) -> None:
    from trove_webhooks import Outcome

    encoded = Outcome(200, body).body_bytes()
    assert encoded == json.dumps(body, separators=(",", ":")).encode()
    assert json.loads(encoded) == body
