"""The isolation matrix (D4): every kind of key × namespace × route, over real HTTP.

Keys: the workspace's admin key, its unscoped workspace key, a key locked to namespace
``ns-a``, a revoked key, the admin and workspace keys of *another* workspace, no key, and a
made-up key. Each cell is the status the contract requires.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

KEY_KINDS = ["admin", "workspace", "locked", "revoked", "other-admin", "other-workspace",
             "none", "made-up"]  # fmt: skip

# route → expected status per key kind (same order as KEY_KINDS)
MATRIX: dict[str, list[int]] = {
    "me":                 [200, 200, 200, 401, 200, 200, 401, 401],
    "exec ns-a":          [403, 200, 200, 401, 403, 200, 401, 401],
    "exec ns-b":          [403, 200, 403, 401, 403, 200, 401, 401],
    "write ns-a":         [403, 200, 200, 401, 403, 200, 401, 401],
    "list ns-a":          [403, 200, 200, 401, 403, 200, 401, 401],
    "list ns-b":          [403, 200, 403, 401, 403, 200, 401, 401],
    "snapshots ns-a":     [403, 200, 200, 401, 403, 200, 401, 401],
    "keys":               [200, 403, 403, 401, 403, 403, 401, 401],
    "webhooks":           [200, 403, 403, 401, 403, 403, 401, 401],
    "feed":               [200, 200, 200, 401, 403, 403, 401, 401],
    "feed ns-b":          [200, 200, 403, 401, 403, 403, 401, 401],
    "stream":             [200, 200, 200, 401, 403, 403, 401, 401],
    "namespaces":         [200, 200, 200, 401, 403, 403, 401, 401],
    "delete namespace":   [404, 403, 403, 401, 403, 403, 401, 401],
}  # fmt: skip


@pytest.fixture(scope="module")
def keys(trove_server: Any) -> dict[str, str | None]:
    suffix = uuid.uuid4().hex[:8]
    locked = trove_server.create_key(f"matrix-locked-{suffix}", namespace="ns-a")
    revoked = trove_server.create_key(f"matrix-revoked-{suffix}")
    with trove_server.admin() as admin:
        admin.revoke_key(revoked.key_id)
    other = trove_server.create_workspace(f"matrix-{suffix}")
    return {
        "admin": trove_server.admin_key,
        "workspace": trove_server.api_key,
        "locked": locked.api_key,
        "revoked": revoked.api_key,
        "other-admin": other.admin_key,
        "other-workspace": other.api_key,
        "none": None,
        "made-up": "trove-sk-" + "0" * 48,
    }


def _call(http: httpx.Client, ws: str, route: str, key: str | None) -> int:
    h = {"Authorization": f"Bearer {key}"} if key else {}
    name, _, ns = route.partition(" ")
    if ns:
        h["X-Namespace"] = ns
    if name == "me":
        return http.get("/v1/me", headers=h).status_code
    if name == "exec":
        return http.post("/v1/exec", json={"command": "true"}, headers=h).status_code
    if name == "write":
        return http.post("/write", json={"path": "m.txt", "content": "x"}, headers=h).status_code
    if name == "list":
        return http.get("/v1/files", headers=h).status_code
    if name == "snapshots":
        return http.get("/v1/snapshots", headers=h).status_code
    if name in ("keys", "webhooks", "namespaces"):
        return http.get(f"/v1/workspaces/{ws}/{name}", headers=h).status_code
    if name == "feed":
        params = {"namespace": ns} if ns else {}
        h.pop("X-Namespace", None)
        return http.get(f"/v1/workspaces/{ws}/events", params=params, headers=h).status_code
    if name == "stream":
        with http.stream("GET", f"/v1/workspaces/{ws}/webhooks/stream", headers=h) as r:
            return r.status_code
    if route == "delete namespace":
        return http.delete(f"/v1/workspaces/{ws}/namespaces/never-made", headers=h).status_code
    raise AssertionError(route)


@pytest.mark.parametrize("route", list(MATRIX))
@pytest.mark.parametrize("kind", KEY_KINDS)
def test_the_status_each_key_gets_on_each_route(http, trove_server, keys, route, kind):
    expected = MATRIX[route][KEY_KINDS.index(kind)]
    assert _call(http, trove_server.workspace_id, route, keys[kind]) == expected


def test_another_workspace_never_sees_this_workspaces_files(trove_server, keys):
    with trove_server.client("ns-a") as mine:
        mine.write("private.txt", "ours")
    with trove_server.client("ns-a", api_key=keys["other-workspace"]) as theirs:
        assert "private.txt" not in [e.name for e in theirs.list_dir()]
        assert theirs.exec_detailed("cat workspace/private.txt").exit_code != 0


def test_a_locked_keys_feed_holds_only_its_namespace(trove_server, keys):
    with trove_server.client("ns-b") as other:
        other.write("other.txt", "x")
    with trove_server.client("ns-a", api_key=keys["locked"]) as locked:
        locked.write("own.txt", "x")
        namespaces = {e.namespace for e in locked.list_events(limit=200).events}
    assert namespaces == {"ns-a"}
