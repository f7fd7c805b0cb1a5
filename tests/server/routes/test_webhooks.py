"""Webhook subscriptions (CONTRACT §2.7, X4, X5): CRUD, test deliveries, secret rotation."""

from __future__ import annotations

import contextlib

import pytest

from tests.server.support import Reply, headers
from trove_sdk import TroveError, TroveNotFoundError, WebhookVerifier, verify_webhook


@pytest.fixture
def hooks(admin_client):
    """Creates webhooks and deletes them after the test (so they stop receiving)."""
    created = []

    def create(url, **kwargs):
        hook = admin_client.create_webhook(url, **kwargs)
        created.append(hook.webhook_id)
        return hook

    yield create
    for webhook_id in created:
        with contextlib.suppress(TroveNotFoundError):  # the test may have deleted it
            admin_client.delete_webhook(webhook_id)


def _base(trove_server):
    return f"/v1/workspaces/{trove_server.workspace_id}/webhooks"


def test_create_returns_the_subscription_and_its_secret_once(
    hooks, receiver, namespace, admin_client
):
    hook = hooks(receiver.url, namespace=namespace, description="orders")
    assert hook.webhook_id.startswith("wh-")
    assert hook.signing_secret.startswith("trove-whsec-")
    assert (hook.url, hook.events, hook.namespace, hook.description, hook.enabled) == (
        receiver.url,
        ("*",),
        namespace,
        "orders",
        True,
    )
    listed = {w.webhook_id: w for w in admin_client.list_webhooks()}
    assert listed[hook.webhook_id].url == receiver.url


def test_create_answers_201(http, trove_server, receiver, admin_client):
    response = http.post(
        _base(trove_server), json={"url": receiver.url}, headers=headers(trove_server.admin_key)
    )
    assert response.status_code == 201
    admin_client.delete_webhook(response.json()["webhook_id"])


def test_an_empty_events_list_means_everything(http, trove_server, receiver, admin_client):
    response = http.post(
        _base(trove_server),
        json={"url": receiver.url, "events": []},
        headers=headers(trove_server.admin_key),
    )
    assert response.json()["events"] == ["*"]
    admin_client.delete_webhook(response.json()["webhook_id"])


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"url": "ftp://example.com/hook"}, "http:// or https://"),
        ({"url": "localhost:8000/hook"}, "http:// or https://"),
        ({"url": "javascript:alert(1)"}, "http:// or https://"),
        ({"url": "http://"}, "http:// or https://"),
        ({"url": "http://exa mple.com"}, "http:// or https://"),
        ({"url": "http://x.test:99999/hook"}, "Port out of range"),
        ({"url": "http://" + "a" * 64 + ".test/"}, "label empty or too long"),
        ({"url": ""}, "must not be empty"),
        ({}, "url is required"),
        ({"url": "http://x.test", "events": ["file.writen"]}, "did you mean 'file.written'"),
        ({"url": "http://x.test", "events": "file.written"}, "events must be an array"),
        ({"url": "http://x.test", "namespace": "bad/ns"}, "namespace"),
        ({"url": "http://x.test", "namespace": "alice\n"}, "namespace"),
        ({"url": "http://x.test", "description": "d" * 1025}, "limit is 1024"),
    ],
)
def test_a_bad_subscription_is_422(http, trove_server, body, complaint):
    response = http.post(_base(trove_server), json=body, headers=headers(trove_server.admin_key))
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_workspace_keys_cannot_manage_webhooks(http, trove_server):
    response = http.get(_base(trove_server), headers=headers(trove_server.api_key))
    assert response.status_code == 403
    assert response.json() == {"detail": "Workspace keys cannot manage webhooks."}


def test_delete_then_delete_again_is_404(hooks, receiver, admin_client):
    hook = hooks(receiver.url)
    admin_client.delete_webhook(hook.webhook_id)
    with pytest.raises(TroveNotFoundError):
        admin_client.delete_webhook(hook.webhook_id)
    assert hook.webhook_id not in [w.webhook_id for w in admin_client.list_webhooks()]


def test_test_delivers_a_signed_webhook_test_event_with_the_d9_headers(
    hooks, receiver, admin_client
):
    hook = hooks(receiver.url)
    result = admin_client.test_webhook(hook.webhook_id)
    assert (result.ok, result.status, result.error) == (True, 204, None)
    (delivery,) = receiver.wait_for(1)
    h = {k.lower(): v for k, v in delivery.headers.items()}
    assert h["content-type"] == "application/json"
    assert h["user-agent"].startswith("Trove-Webhooks/")
    assert h["x-trove-event"] == "webhook.test"
    assert h["x-trove-event-id"] == result.event_id
    assert h["x-trove-delivery"].startswith("dlv-")
    assert h["x-trove-attempt"] == "1"
    event = verify_webhook(
        secret=hook.signing_secret, body=delivery.body, signature_header=h["x-trove-signature"]
    )
    assert event.type == "webhook.test"
    assert event.data.message


def test_test_reports_a_failing_receiver(hooks, receiver, admin_client):
    receiver.replies.append(Reply(500, body=b"database down"))
    hook = hooks(receiver.url)
    result = admin_client.test_webhook(hook.webhook_id)
    assert (result.ok, result.status) == (False, 500)
    assert result.error == "HTTP 500: database down"


def test_test_reports_an_unreachable_receiver(hooks, admin_client):
    hook = hooks("http://127.0.0.1:9/unreachable")
    result = admin_client.test_webhook(hook.webhook_id)
    assert result.ok is False
    assert result.status is None
    assert "Connect" in result.error


def test_the_list_shows_the_last_delivery(hooks, receiver, admin_client):
    hook = hooks(receiver.url)
    admin_client.test_webhook(hook.webhook_id)
    listed = {w.webhook_id: w for w in admin_client.list_webhooks()}[hook.webhook_id]
    assert (listed.last_delivery_ok, listed.last_delivery_status) == (True, 204)
    assert listed.last_delivery_at.endswith("Z")


def test_test_of_an_unknown_webhook_is_404(admin_client):
    with pytest.raises(TroveNotFoundError):
        admin_client.test_webhook("wh-doesnotexist")


def test_patch_changes_only_the_given_fields(hooks, receiver, admin_client, namespace):
    hook = hooks(receiver.url, description="before")
    updated = admin_client.update_webhook(
        hook.webhook_id, events=["file.*", "exec.completed"], namespace=namespace
    )
    assert updated.events == ("file.*", "exec.completed")
    assert updated.namespace == namespace
    assert updated.description == "before"
    cleared = admin_client.update_webhook(hook.webhook_id, namespace=None, enabled=False)
    assert (cleared.namespace, cleared.enabled) == (None, False)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "nothing to change"),
        ({"enabled": "yes"}, "enabled must be a boolean"),
        ({"events": ["nope"]}, "unknown event type"),
        ({"url": "mailto:x@y"}, "http:// or https://"),
    ],
)
def test_a_bad_patch_is_422(http, trove_server, hooks, receiver, body, complaint):
    hook = hooks(receiver.url)
    response = http.patch(
        f"{_base(trove_server)}/{hook.webhook_id}",
        json=body,
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_rotation_signs_with_both_secrets_during_the_grace_period(hooks, receiver, admin_client):
    hook = hooks(receiver.url)
    rotation = admin_client.rotate_webhook_secret(hook.webhook_id, grace_seconds=3600)
    assert rotation.signing_secret != hook.signing_secret
    assert rotation.previous_expires_at.endswith("Z")
    admin_client.test_webhook(hook.webhook_id)
    (delivery,) = receiver.wait_for(1)
    signature = delivery.headers["X-Trove-Signature"]
    assert signature.count("v1=") == 2
    for secret in (rotation.signing_secret, hook.signing_secret):
        assert WebhookVerifier(secret).verify(delivery.body, signature).event.type == "webhook.test"


def test_rotation_without_grace_drops_the_old_secret_at_once(hooks, receiver, admin_client):
    hook = hooks(receiver.url)
    rotation = admin_client.rotate_webhook_secret(hook.webhook_id, grace_seconds=0)
    assert rotation.previous_expires_at is None
    admin_client.test_webhook(hook.webhook_id)
    (delivery,) = receiver.wait_for(1)
    signature = delivery.headers["X-Trove-Signature"]
    assert signature.count("v1=") == 1
    with pytest.raises(TroveError):
        WebhookVerifier(hook.signing_secret).verify(delivery.body, signature)


def test_a_grace_period_beyond_thirty_days_is_422(http, trove_server, hooks, receiver):
    hook = hooks(receiver.url)
    response = http.post(
        f"{_base(trove_server)}/{hook.webhook_id}/rotate-secret",
        json={"grace_seconds": 31 * 86400},
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422
