"""Keys (CONTRACT §2.6, D4): minting, listing, revocation — immediate — and who may do it."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from tests.server.support import headers
from trove_sdk import TroveAuthError, TroveError, TroveNotFoundError


def _keys_url(trove_server):
    return f"/v1/workspaces/{trove_server.workspace_id}/keys"


def test_a_new_key_is_shown_once_with_its_metadata(admin_client):
    key = admin_client.create_key("agent-7")
    assert key.api_key.startswith("trove-sk-")
    assert key.key_id.startswith("key-")
    assert key.prefix == key.api_key[:12]
    assert (key.name, key.scope, key.namespace) == ("agent-7", "workspace", None)
    listed = {k.key_id: k for k in admin_client.list_keys()}[key.key_id]
    assert listed.prefix == key.prefix
    assert not hasattr(listed, "api_key") or not getattr(listed, "api_key", "")


def test_create_answers_201(http, trove_server):
    response = http.post(
        _keys_url(trove_server),
        json={"name": "raw", "namespace": None, "admin": False},
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 201
    assert set(response.json()) >= {"key_id", "name", "prefix", "scope", "namespace",
                                    "created_at", "api_key"}  # fmt: skip


def test_keys_are_stored_only_as_digests(admin_client, trove_server):
    key = admin_client.create_key("hashed")
    with sqlite3.connect(trove_server.data_dir / "trove.db") as db:
        (digest,) = db.execute("SELECT digest FROM api_keys WHERE id = ?", (key.key_id,)).fetchone()
        dump = "\n".join(db.iterdump())
    assert digest == hashlib.sha256(key.api_key.encode()).hexdigest()
    assert key.api_key not in dump


def test_a_namespace_locked_key_works_in_its_namespace_only(admin_client, trove_server, namespace):
    key = admin_client.create_key("locked", namespace=namespace)
    with trove_server.client(namespace, api_key=key.api_key) as home:
        assert home.write("ok.txt", "x").path == "workspace/ok.txt"
        assert home.me().namespace == namespace
    with (
        trove_server.client("elsewhere", api_key=key.api_key) as away,
        pytest.raises(TroveAuthError) as info,
    ):
        away.list_dir()
    assert info.value.status_code == 403
    assert info.value.message == f"This key is scoped to namespace '{namespace}'"


def test_a_locked_key_without_x_namespace_uses_its_namespace(http, admin_client, namespace):
    key = admin_client.create_key("implicit", namespace=namespace)
    response = http.post(
        "/write", json={"path": "implicit.txt", "content": "x"}, headers=headers(key.api_key)
    )
    assert response.status_code == 200


def test_an_admin_key_is_created_with_admin_true(admin_client):
    key = admin_client.create_key("second-admin", admin=True)
    assert key.scope == "admin"


def test_an_admin_key_cannot_be_locked_to_a_namespace(http, trove_server):
    response = http.post(
        _keys_url(trove_server),
        json={"name": "x", "namespace": "n", "admin": True},
        headers=headers(trove_server.admin_key),
    )
    assert response.status_code == 422
    assert "cannot be locked" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "name is required"),
        ({"name": ""}, "must not be empty"),
        ({"name": "n" * 129}, "limit is 128"),
        ({"name": 5}, "name must be a string"),
        ({"name": "x", "namespace": "has space"}, "namespace"),
        ({"name": "x", "namespace": "alice\n"}, "namespace"),
        ({"name": "x", "admin": "yes"}, "admin must be a boolean"),
    ],
)
def test_a_bad_key_request_is_422(http, trove_server, body, complaint):
    response = http.post(
        _keys_url(trove_server), json=body, headers=headers(trove_server.admin_key)
    )
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_revocation_is_immediate(admin_client, trove_server, namespace):
    key = admin_client.create_key("short-lived")
    with trove_server.client(namespace, api_key=key.api_key) as c:
        c.write("before.txt", "x")
        admin_client.revoke_key(key.key_id)
        with pytest.raises(TroveAuthError) as info:
            c.write("after.txt", "x")
    assert info.value.status_code == 401
    assert key.key_id not in [k.key_id for k in admin_client.list_keys()]


def test_revoking_an_unknown_or_revoked_key_is_404(admin_client):
    key = admin_client.create_key("twice")
    admin_client.revoke_key(key.key_id)
    for key_id in (key.key_id, "key-nothere"):
        with pytest.raises(TroveNotFoundError):
            admin_client.revoke_key(key_id)


def test_a_key_cannot_revoke_itself(http, trove_server, admin_client):
    second = admin_client.create_key("self", admin=True)
    response = http.delete(
        f"{_keys_url(trove_server)}/{second.key_id}", headers=headers(second.api_key)
    )
    assert response.status_code == 409


def test_workspace_keys_cannot_manage_keys(http, trove_server):
    response = http.get(_keys_url(trove_server), headers=headers(trove_server.api_key))
    assert response.status_code == 403
    assert response.json() == {"detail": "Workspace keys cannot manage keys."}


def test_key_events_are_emitted(admin_client):
    key = admin_client.create_key("evented")
    admin_client.revoke_key(key.key_id)
    events = admin_client.list_events(types="key.*", limit=10).events
    assert [(e.type, e.data.key_id) for e in events[:2]] == [
        ("key.revoked", key.key_id),
        ("key.created", key.key_id),
    ]
    assert events[1].namespace is None


def test_keys_of_another_workspace_are_403(http, trove_server):
    other = trove_server.create_workspace("keys-other")
    response = http.get(
        f"/v1/workspaces/{other.workspace_id}/keys", headers=headers(trove_server.admin_key)
    )
    assert response.status_code == 403


def test_malformed_authorization_is_401(http, trove_server):
    response = http.get(_keys_url(trove_server), headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_errors_from_the_sdk_carry_the_request_id(admin_client):
    with pytest.raises(TroveError) as info:
        admin_client.revoke_key("key-missing")
    assert info.value.request_id.startswith("req_")
