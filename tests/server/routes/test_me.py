"""``GET /v1/me``."""

from __future__ import annotations

import httpx


def test_me_describes_the_workspace_key(client, trove_server):
    me = client.me()
    assert me.workspace_id == trove_server.workspace_id
    assert me.scope == "workspace"
    assert me.namespace is None
    assert me.key_name == "default"


def test_me_reports_isolation_and_capabilities(trove_server):
    response = httpx.get(
        f"{trove_server.base_url}/v1/me",
        headers={"Authorization": f"Bearer {trove_server.admin_key}"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["scope"] == "admin"
    assert body["isolation"] == trove_server.isolation
    assert "exec.stdin" in body["capabilities"]
    assert "events.stream" in body["capabilities"]


def test_me_without_a_key_is_401_with_a_detail(trove_server):
    response = httpx.get(f"{trove_server.base_url}/v1/me")
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]
    assert response.headers["x-request-id"].startswith("req_")


def test_me_with_an_unknown_key_is_401(trove_server):
    response = httpx.get(
        f"{trove_server.base_url}/v1/me", headers={"Authorization": "Bearer trove-sk-nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}
