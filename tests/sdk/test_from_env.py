"""Clients configured from TROVE_* environment variables."""

from __future__ import annotations

import pytest
import respx

from trove_sdk import AsyncTroveAdminClient, AsyncTroveClient, TroveAdminClient, TroveClient

BASE = "http://127.0.0.1:9"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("TROVE_API_KEY", "TROVE_ADMIN_KEY", "TROVE_NAMESPACE", "TROVE_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TROVE_BASE_URL", BASE + "/")
    return monkeypatch


def test_runtime_client_reads_key_namespace_and_base_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("TROVE_API_KEY", "trove-sk-a")
    env.setenv("TROVE_NAMESPACE", "alice")
    with TroveClient.from_env() as client:
        assert (client.namespace, client.base_url) == ("alice", BASE)


def test_an_explicit_namespace_beats_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("TROVE_API_KEY", "trove-sk-a")
    env.setenv("TROVE_NAMESPACE", "alice")
    with TroveClient.from_env("bob") as client:
        assert client.namespace == "bob"


def test_a_missing_key_names_the_variable_to_set(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="set TROVE_API_KEY"):
        TroveClient.from_env("alice")


def test_a_missing_namespace_names_the_variable_to_set(env: pytest.MonkeyPatch) -> None:
    env.setenv("TROVE_API_KEY", "trove-sk-a")
    with pytest.raises(ValueError, match="TROVE_NAMESPACE"):
        AsyncTroveClient.from_env()


def test_admin_client_prefers_the_admin_key_and_uses_the_workspace_id(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("TROVE_API_KEY", "trove-sk-runtime")
    env.setenv("TROVE_ADMIN_KEY", "trove-sk-admin")
    env.setenv("TROVE_WORKSPACE_ID", "ws-1")
    with respx.mock(base_url=BASE) as router, TroveAdminClient.from_env() as admin:
        route = router.get("/v1/workspaces/ws-1/keys").respond(200, json={"keys": []})
        admin.list_keys()
    assert route.calls[0].request.headers["authorization"] == "Bearer trove-sk-admin"


async def test_admin_client_discovers_the_workspace_when_unset(env: pytest.MonkeyPatch) -> None:
    env.setenv("TROVE_ADMIN_KEY", "trove-sk-admin")
    with respx.mock(base_url=BASE) as router:
        router.get("/v1/me").respond(200, json={"workspace_id": "ws-found", "scope": "admin"})
        admin = await AsyncTroveAdminClient.from_env()
        await admin.aclose()
    assert admin.workspace_id == "ws-found"
