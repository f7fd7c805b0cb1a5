"""The delivery worker (X2, X3, D9): signed deliveries, retries, ``Retry-After``, ``410``,
the delivery log, retry and replay — against a real receiver over real HTTP."""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.server.support import Reply, headers, wait_until
from trove_sdk import TroveError, TroveNotFoundError, WebhookVerifier


@pytest.fixture
def subscribe(admin_client, namespace):
    """A webhook limited to this test's namespace, deleted afterwards."""
    created = []

    def create(url, **kwargs):
        kwargs.setdefault("namespace", namespace)
        hook = admin_client.create_webhook(url, **kwargs)
        created.append(hook.webhook_id)
        return hook

    yield create
    for webhook_id in created:
        with contextlib.suppress(TroveNotFoundError):
            admin_client.delete_webhook(webhook_id)


def _done(attempt):
    """An attempt that was made (a queued one has neither a status nor an error yet)."""
    return attempt.status is not None or attempt.error is not None


def _attempts(admin_client, webhook_id):
    """Every recorded attempt, oldest first."""
    rows, cursor = [], None
    while True:
        page = admin_client.list_deliveries(webhook_id, limit=200, cursor=cursor)
        rows.extend(page.deliveries)
        if page.next_cursor is None:
            return list(reversed(rows))
        cursor = page.next_cursor


def test_an_event_is_delivered_signed_with_the_stored_envelope(
    subscribe, receiver, client, namespace
):
    hook = subscribe(receiver.url)
    client.write("hello.txt", "hi")
    (delivery,) = receiver.wait_for(1)
    verified = WebhookVerifier(hook.signing_secret).verify(
        delivery.body, delivery.headers["X-Trove-Signature"]
    )
    (row,) = client.list_events(namespace=namespace).events
    assert verified.event.id == row.id
    assert json.loads(delivery.body) == row.to_dict()
    assert delivery.headers["X-Trove-Event"] == "file.written"
    assert delivery.headers["X-Trove-Event-Id"] == row.id
    assert delivery.headers["X-Trove-Attempt"] == "1"


def test_only_subscribed_types_and_namespaces_are_delivered(
    subscribe, receiver, client, trove_server, namespace
):
    subscribe(receiver.url, events=["exec.completed"])
    client.write("ignored.txt", "x")
    with trove_server.client(namespace + "-elsewhere") as other:
        other.exec_detailed("true")
    client.exec_detailed("echo wanted")
    (delivery,) = receiver.wait_for(1)
    body = json.loads(delivery.body)
    assert (body["type"], body["namespace"]) == ("exec.completed", namespace)
    assert len(receiver.requests) == 1


def test_a_group_pattern_subscribes_to_every_type_in_it(subscribe, receiver, client):
    subscribe(receiver.url, events=["file.*"])
    client.write("a", "x")
    client.delete("a")
    types = [json.loads(d.body)["type"] for d in receiver.wait_for(2)]
    assert sorted(types) == ["file.deleted", "file.written"]


def test_a_failed_delivery_is_retried_and_every_attempt_is_logged(
    subscribe, receiver, client, admin_client
):
    receiver.replies += [Reply(500, body=b"oops"), Reply(502)]
    hook = subscribe(receiver.url)
    client.write("retry.txt", "x")
    deliveries = receiver.wait_for(3)
    assert [d.headers["X-Trove-Attempt"] for d in deliveries] == ["1", "2", "3"]
    assert len({d.headers["X-Trove-Delivery"] for d in deliveries}) == 3
    assert len({d.body for d in deliveries}) == 1
    attempts = wait_until(
        lambda: (
            [a for a in _attempts(admin_client, hook.webhook_id) if a.status == 204]
            and _attempts(admin_client, hook.webhook_id)
        )
    )
    assert [(a.attempt, a.status, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 502, False),
        (3, 204, True),
    ]
    assert attempts[0].error == "HTTP 500: oops"
    assert attempts[0].next_attempt_at is not None
    assert attempts[-1].next_attempt_at is None
    assert [a.delivery_id for a in attempts] == [d.headers["X-Trove-Delivery"] for d in deliveries]


def test_a_sender_crash_is_a_failed_attempt_that_is_retried(
    subscribe, receiver, client, admin_client, monkeypatch
):
    """An attempt that raised must not stay 'sending' (that held the event until a restart)."""
    from trove_server.webhook_http import DeliveryClient

    real_post = DeliveryClient.post
    crashes = []

    async def crash_once(self, url, body, headers, *, timeout):
        if not crashes:
            crashes.append(url)
            raise RuntimeError("a bug in the sender")
        return await real_post(self, url, body, headers, timeout=timeout)

    monkeypatch.setattr(DeliveryClient, "post", crash_once)
    hook = subscribe(receiver.url)
    client.write("crash.txt", "x")
    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["X-Trove-Attempt"] == "2"
    attempts = wait_until(
        lambda: (rows := _attempts(admin_client, hook.webhook_id)) and rows[-1].ok and rows
    )
    assert [(a.attempt, a.ok, a.error) for a in attempts] == [
        (1, False, "internal error in the sender"),
        (2, True, None),
    ]


def test_retry_after_is_honoured(subscribe, receiver, client):
    receiver.replies.append(Reply(503, headers={"Retry-After": "1"}))
    subscribe(receiver.url)
    client.write("later.txt", "x")
    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 0.9  # the schedule alone would retry after 0.05 s


def test_gone_disables_the_webhook(subscribe, receiver, client, admin_client):
    receiver.replies.append(Reply(410))
    hook = subscribe(receiver.url)
    client.write("one.txt", "x")
    receiver.wait_for(1)

    def disabled():
        listed = {w.webhook_id: w for w in admin_client.list_webhooks()}[hook.webhook_id]
        return None if listed.enabled else listed

    listed = wait_until(disabled)
    assert listed.last_delivery_status == 410
    client.write("two.txt", "x")
    client.exec_detailed("true")
    admin_client.update_webhook(hook.webhook_id, enabled=True)
    client.write("three.txt", "x")
    paths = [json.loads(d.body)["data"].get("path") for d in receiver.wait_for(2)]
    assert paths == ["workspace/one.txt", "workspace/three.txt"]


def test_retries_stop_when_the_schedule_is_exhausted(subscribe, receiver, client, admin_client):
    receiver.default = Reply(500)
    hook = subscribe(receiver.url)
    client.write("doomed.txt", "x")
    receiver.wait_for(4)  # the first attempt and the three scheduled retries
    attempts = wait_until(
        lambda: (a := _attempts(admin_client, hook.webhook_id)) and _done(a[-1]) and a
    )
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert attempts[-1].next_attempt_at is None
    with pytest.raises(AssertionError):
        receiver.wait_for(5, timeout=0.5)


def test_a_manual_retry_sends_the_event_again(subscribe, receiver, client, admin_client):
    hook = subscribe(receiver.url)
    client.write("again.txt", "x")
    (first,) = receiver.wait_for(1)
    queued = admin_client.retry_delivery(hook.webhook_id, first.headers["X-Trove-Delivery"])
    assert queued.attempt == 2
    assert queued.status is None and queued.ok is False
    second = receiver.wait_for(2)[1]
    assert second.body == first.body
    assert second.headers["X-Trove-Attempt"] == "2"


def test_retry_of_an_unknown_delivery_is_404(subscribe, receiver, admin_client):
    hook = subscribe(receiver.url)
    with pytest.raises(TroveNotFoundError):
        admin_client.retry_delivery(hook.webhook_id, "dlv-nope")


def test_replay_queues_matching_past_events(subscribe, receiver, client, admin_client):
    client.write("past-1.txt", "x")
    client.write("past-2.txt", "x")
    client.exec_detailed("true")
    hook = subscribe(receiver.url)
    assert receiver.requests == []
    result = admin_client.replay_webhook(hook.webhook_id, since="10m", types=["file.written"])
    assert result.queued == 2
    paths = sorted(json.loads(d.body)["data"]["path"] for d in receiver.wait_for(2))
    assert paths == ["workspace/past-1.txt", "workspace/past-2.txt"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "since is required"),
        ({"since": "whenever"}, "since:"),
        ({"since": "1h", "types": ["x"]}, "unknown event type"),
    ],
)
def test_a_bad_replay_is_422(http, trove_server, subscribe, receiver, body, complaint):
    hook = subscribe(receiver.url)
    response = http.post(
        f"/v1/workspaces/{trove_server.workspace_id}/webhooks/{hook.webhook_id}/replay",
        json=body,
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_retry_and_replay_of_a_disabled_webhook_are_409(subscribe, receiver, admin_client):
    hook = subscribe(receiver.url)
    admin_client.update_webhook(hook.webhook_id, enabled=False)
    with pytest.raises(TroveError) as info:
        admin_client.replay_webhook(hook.webhook_id, since="1h")
    assert info.value.status_code == 409


def test_the_delivery_log_pages_newest_first(subscribe, receiver, client, admin_client):
    hook = subscribe(receiver.url)
    for i in range(5):
        client.write(f"p{i}", "x")
    receiver.wait_for(5)
    wait_until(lambda: all(_done(a) for a in _attempts(admin_client, hook.webhook_id)))
    first = admin_client.list_deliveries(hook.webhook_id, limit=2)
    second = admin_client.list_deliveries(hook.webhook_id, limit=2, cursor=first.next_cursor)
    ids = [d.delivery_id for d in first.deliveries + second.deliveries]
    newest_first = [a.delivery_id for a in reversed(_attempts(admin_client, hook.webhook_id))]
    assert ids == newest_first[:4]


def test_a_bad_delivery_log_limit_is_422(http, trove_server, subscribe, receiver):
    hook = subscribe(receiver.url)
    response = http.get(
        f"/v1/workspaces/{trove_server.workspace_id}/webhooks/{hook.webhook_id}/deliveries",
        params={"limit": "500"},
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422


@pytest.mark.parametrize("cursor", ["abc", "²", "9" * 30])
def test_a_bad_delivery_log_cursor_is_422(http, trove_server, subscribe, receiver, cursor):
    hook = subscribe(receiver.url)
    response = http.get(
        f"/v1/workspaces/{trove_server.workspace_id}/webhooks/{hook.webhook_id}/deliveries",
        params={"cursor": cursor},
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422
    assert "not a cursor" in response.json()["detail"]


def test_a_slow_receiver_times_out_and_is_retried(tmp_path, receiver, namespace):
    from trove_server.testing import run_server

    receiver.replies.append(Reply(204, delay=1.5))
    with (
        run_server(tmp_path, delivery_timeout=0.3, retry_schedule=(0.05,)) as server,
        server.admin() as admin,
        server.client(namespace) as c,
    ):
        hook = admin.create_webhook(receiver.url)
        c.write("slow.txt", "x")
        attempts = wait_until(
            lambda: (a := _attempts(admin, hook.webhook_id))
            and len(a) == 2 and _done(a[-1]) and a
        )  # fmt: skip
    assert attempts[0].error == "timed out after 0.3s"
    assert attempts[0].status is None
    assert attempts[1].ok is True
