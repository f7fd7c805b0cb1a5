"""Open sign-up (X8): only when the server allows it."""

from __future__ import annotations

import pytest

from trove_sdk import TroveAdminClient, TroveAuth, TroveAuthError, TroveClient


def test_sign_up_is_refused_unless_enabled(trove_server):
    with TroveAuth(trove_server.base_url) as auth, pytest.raises(TroveAuthError) as info:
        auth.signup("nope")
    assert info.value.status_code == 403
    assert "--allow-signup" in info.value.message


def test_sign_up_creates_a_workspace_with_working_keys(tmp_path):
    from trove_server.testing import run_server

    with run_server(tmp_path, allow_signup=True) as server:
        with TroveAuth(server.base_url) as auth:
            created = auth.signup("acme")
        with TroveClient(created.api_key, "first", base_url=server.base_url) as c:
            assert c.me().workspace_id == created.workspace_id
            c.write("hello.txt", "x")
        with TroveAdminClient(
            created.admin_key, created.workspace_id, base_url=server.base_url
        ) as admin:
            assert "signup" in admin.me().capabilities
            events = admin.list_events(types="workspace.created").events
    assert events[0].data.name == "acme"
    assert events[0].data.workspace_id == created.workspace_id


def test_sign_up_needs_a_name(tmp_path):
    import httpx

    from trove_server.testing import run_server

    with run_server(tmp_path, allow_signup=True) as server:
        response = httpx.post(f"{server.base_url}/v1/workspaces", json={})
    assert response.status_code == 422
    assert response.json()["detail"] == "name is required"
