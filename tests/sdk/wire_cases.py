"""The exact wire shape of every client method, as data: both client twins are checked against
the same table (``test_client.py`` and ``test_async_client.py``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from trove_sdk import (
    Delivery,
    DeliveryPage,
    ExecResult,
    FileContent,
    FileResult,
    Identity,
    KeyCreated,
    KeyMetadata,
    ListResult,
    NamespaceInfo,
    ReplayResult,
    SecretRotation,
    Snapshot,
    WebhookCreated,
    WebhookMetadata,
    WebhookTestResult,
    __version__,
)

BASE = "https://api.test"
KEY = "trove-sk-0123456789abcdef0123456789abcdef"
WS = "ws-d69634745de7ce97"
NS = "alice"
NO_BODY = object()

SNAPSHOT = {
    "snapshot_id": "snap-1",
    "namespace": NS,
    "label": "x",
    "size_bytes": 10,
    "created_at": "2026-04-30T00:00:00.000Z",
}
KEY_META = {
    "key_id": "key-1",
    "name": "n",
    "prefix": "trove-sk-abc",
    "scope": "workspace",
    "namespace": None,
    "created_at": "2026-04-30T00:00:00.000Z",
}
WEBHOOK = {"webhook_id": "wh-1", "url": "https://example.com/h", "events": ["*"]}
DELIVERY = {
    "delivery_id": "dl-1",
    "event_id": "evt-1",
    "event_type": "file.written",
    "attempt": 2,
    "status": 500,
    "ok": False,
    "error": "HTTP 500",
    "duration_ms": 12,
    "created_at": "2026-04-30T00:00:00.000Z",
    "next_attempt_at": None,
}


@dataclass
class Case:
    id: str
    method_name: str
    args: tuple[Any, ...] | Callable[[], tuple[Any, ...]]  # a callable builds fresh objects
    kwargs: dict[str, Any]
    http_method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY  # JSON body expected, or NO_BODY
    raw_body: bytes | None = None
    response: dict[str, Any] | str | bytes | None = None
    status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], bool] = lambda result: True
    runtime: bool = True  # X-Namespace expected


def _ok(expected: Any) -> Callable[[Any], bool]:
    return lambda result: result == expected


RUNTIME_CASES = [
    Case(
        "me",
        "me",
        (),
        {},
        "GET",
        "/v1/me",
        runtime=False,
        response={
            "workspace_id": WS,
            "key_id": "key-1",
            "key_name": "k",
            "scope": "workspace",
            "namespace": None,
            "capabilities": ["exec.stdin"],
            "extra": 1,
        },
        check=_ok(Identity(WS, "key-1", "k", "workspace", None, ("exec.stdin",))),
    ),
    Case(
        "exec_detailed",
        "exec_detailed",
        ("ls",),
        {},
        "POST",
        "/v1/exec",
        body={"command": "ls"},
        response={"exit_code": 0, "stdout": "a\n", "stderr": "", "duration_ms": 5},
        check=_ok(ExecResult(0, "a\n", "", 5)),
    ),
    Case(
        "exec_detailed with stdin",
        "exec_detailed",
        ("cat",),
        {"stdin": "hi"},
        "POST",
        "/v1/exec",
        body={"command": "cat", "stdin": "hi"},
        response={"exit_code": 0, "stdout": "hi"},
        check=_ok(ExecResult(0, "hi", "", 0)),
    ),
    Case(
        "exec_detailed with timeout_s",
        "exec_detailed",
        ("sleep 40",),
        {"timeout_s": 45},
        "POST",
        "/v1/exec",
        body={"command": "sleep 40", "timeout_s": 45},
        response={"exit_code": 0},
    ),
    Case(
        "exec_detailed minimal response",
        "exec_detailed",
        ("true",),
        {},
        "POST",
        "/v1/exec",
        body={"command": "true"},
        response={"exit_code": 3, "stdout": None},
        check=_ok(ExecResult(3, "", "", 0)),
    ),
    Case(
        "exec success text",
        "exec",
        ("echo hi",),
        {},
        "POST",
        "/v1/exec",
        body={"command": "echo hi"},
        response={"exit_code": 0, "stdout": "hi\n", "stderr": "w"},
        check=_ok("hi\n"),
    ),
    Case(
        "exec failure legacy text",
        "exec",
        ("false",),
        {},
        "POST",
        "/v1/exec",
        body={"command": "false"},
        response={"exit_code": 2, "stdout": "out\n", "stderr": "err\n"},
        check=_ok("[exit 2]\nerr\nout\n"),
    ),
    Case(
        "exec_legacy text endpoint",
        "exec_legacy",
        ("false",),
        {"stdin": "x"},
        "POST",
        "/exec",
        body={"command": "false", "stdin": "x"},
        response="[exit 1]\nboom\n",
        check=_ok("[exit 1]\nboom\n"),
    ),
    Case(
        "exec_chain brace groups",
        "exec_chain",
        (["cd workspace", "ls"],),
        {},
        "POST",
        "/v1/exec",
        body={"command": "{ cd workspace; } && { ls; }"},
        response={"exit_code": 0},
    ),
    Case(
        "exec_chain single step still wrapped",
        "exec_chain",
        (["ls"],),
        {"stdin": "x"},
        "POST",
        "/v1/exec",
        body={"command": "{ ls; }", "stdin": "x"},
        response={"exit_code": 0},
    ),
    Case(
        "exec_chain ends a step that '; }' would break with a newline",
        "exec_chain",
        (["echo a  # note", "sleep 1 &", "ls;"],),
        {},
        "POST",
        "/v1/exec",
        body={"command": "{ echo a  # note\n} && { sleep 1 &\n} && { ls;\n}"},
        response={"exit_code": 0},
    ),
    Case(
        "write strips workspace/",
        "write",
        ("workspace/notes/a.md", "hi"),
        {},
        "POST",
        "/write",
        body={"path": "notes/a.md", "content": "hi"},
        response={"path": "workspace/notes/a.md", "size_bytes": 2},
        check=_ok(FileResult("workspace/notes/a.md", 2)),
    ),
    Case(
        "write strips a leading slash",
        "write",
        ("/a.md", ""),
        {},
        "POST",
        "/write",
        body={"path": "a.md", "content": ""},
        response={"path": "workspace/a.md", "size_bytes": 0},
    ),
    Case(
        "upload bytes",
        "upload",
        ("workspace/img.png", b"\x89PNG"),
        {},
        "PUT",
        "/files/img.png",
        raw_body=b"\x89PNG",
        response={"path": "workspace/img.png", "size_bytes": 4},
        check=_ok(FileResult("workspace/img.png", 4)),
    ),
    Case(
        "upload file object",
        "upload",
        lambda: ("d/a b.bin", io.BytesIO(b"xyz")),
        {},
        "PUT",
        "/files/d/a%20b.bin",
        raw_body=b"xyz",
        response={"path": "workspace/d/a b.bin", "size_bytes": 3},
    ),
    Case(
        "delete",
        "delete",
        ("workspace/old",),
        {},
        "POST",
        "/delete",
        body={"path": "old"},
        response={"deleted": "workspace/old"},
        check=_ok("workspace/old"),
    ),
    Case(
        "list_dir default",
        "list_dir",
        (),
        {},
        "GET",
        "/v1/files",
        params={"path": "workspace/"},
        response={
            "entries": [
                {
                    "name": "d",
                    "path": "workspace/d",
                    "is_dir": True,
                    "size_bytes": None,
                    "modified_at": "2026-04-30T00:00:00Z",
                }
            ],
            "truncated": True,
        },
        check=lambda r: isinstance(r, ListResult) and r.truncated and r[0].is_dir,
    ),
    Case(
        "list_dir recursive",
        "list_dir",
        ("workspace/d",),
        {"recursive": True},
        "GET",
        "/v1/files",
        params={"path": "workspace/d", "recursive": "true"},
        response={},
        check=lambda r: r == [] and r.truncated is False,
    ),
    Case(
        "read_file",
        "read_file",
        ("workspace/a.md",),
        {},
        "GET",
        "/v1/files/content",
        params={"path": "workspace/a.md"},
        response={
            "path": "workspace/a.md",
            "size_bytes": 2,
            "modified_at": "t",
            "encoding": "utf-8",
            "content": "hi",
        },
        check=_ok(FileContent("workspace/a.md", 2, "t", "utf-8", "hi", False)),
    ),
    Case(
        "read_text",
        "read_text",
        ("workspace/a.md",),
        {},
        "GET",
        "/v1/files/content",
        params={"path": "workspace/a.md"},
        response={
            "path": "workspace/a.md",
            "size_bytes": 2,
            "modified_at": "t",
            "encoding": "utf-8",
            "content": "hi",
            "truncated": False,
        },
        check=_ok("hi"),
    ),
    Case(
        "read_bytes",
        "read_bytes",
        ("workspace/x.bin",),
        {},
        "GET",
        "/files/x.bin",
        response=b"\x00\x01",
        check=_ok(b"\x00\x01"),
    ),
    Case(
        "read_bytes sends dot segments encoded, never resolved to another route",
        "read_bytes",
        ("workspace/../v1/me",),
        {},
        "GET",
        "/files/%2E%2E/v1/me",
        response=b"",
    ),
    Case(
        "upload sends dot segments encoded",
        "upload",
        ("a/./../../x.bin", b"1"),
        {},
        "PUT",
        "/files/a/%2E/%2E%2E/%2E%2E/x.bin",
        raw_body=b"1",
        response={"path": "workspace/x.bin", "size_bytes": 1},
    ),
    Case(
        "read_bytes_full truncated",
        "read_bytes_full",
        ("x.bin",),
        {},
        "GET",
        "/files/x.bin",
        response=b"\x00",
        response_headers={"X-Trove-Size": "104857600", "X-Trove-Truncated": "1"},
        check=lambda r: r.truncated and r.size_bytes == 104857600 and r.content == b"\x00",
    ),
    Case(
        "read_bytes_full truncation needs exactly 1",
        "read_bytes_full",
        ("x.bin",),
        {},
        "GET",
        "/files/x.bin",
        response=b"\x00",
        response_headers={"X-Trove-Truncated": "true"},
        check=lambda r: not r.truncated and r.size_bytes is None,
    ),
    Case(
        "set_init",
        "set_init",
        ("cd workspace\n",),
        {},
        "POST",
        "/write",
        body={"path": ".trove/init.sh", "content": "cd workspace\n"},
        response={"path": "workspace/.trove/init.sh", "size_bytes": 13},
    ),
    Case(
        "get_init",
        "get_init",
        (),
        {},
        "GET",
        "/v1/files/content",
        params={"path": "workspace/.trove/init.sh"},
        response={
            "path": "workspace/.trove/init.sh",
            "size_bytes": 1,
            "modified_at": "t",
            "encoding": "utf-8",
            "content": "x",
        },
        check=_ok("x"),
    ),
    Case(
        "get_init unset",
        "get_init",
        (),
        {},
        "GET",
        "/v1/files/content",
        params={"path": "workspace/.trove/init.sh"},
        status=404,
        response={"detail": "Path not found: workspace/.trove/init.sh"},
        check=_ok(None),
    ),
    Case(
        "clear_init",
        "clear_init",
        (),
        {},
        "POST",
        "/delete",
        body={"path": ".trove/init.sh"},
        response={"deleted": "workspace/.trove/init.sh"},
        check=_ok(True),
    ),
    Case(
        "clear_init unset",
        "clear_init",
        (),
        {},
        "POST",
        "/delete",
        body={"path": ".trove/init.sh"},
        status=404,
        response={"detail": "nope"},
        check=_ok(False),
    ),
    Case(
        "create_snapshot",
        "create_snapshot",
        ("before",),
        {},
        "POST",
        "/v1/snapshots",
        body={"label": "before"},
        status=201,
        response=SNAPSHOT,
        check=_ok(Snapshot("snap-1", NS, "x", 10, "2026-04-30T00:00:00.000Z")),
    ),
    Case(
        "create_snapshot without label sends null",
        "create_snapshot",
        (),
        {},
        "POST",
        "/v1/snapshots",
        body={"label": None},
        status=201,
        response=SNAPSHOT,
    ),
    Case(
        "list_snapshots",
        "list_snapshots",
        (),
        {},
        "GET",
        "/v1/snapshots",
        response={"snapshots": [SNAPSHOT]},
        check=lambda r: r[0].snapshot_id == "snap-1",
    ),
    Case(
        "restore_snapshot",
        "restore_snapshot",
        ("snap-1",),
        {},
        "POST",
        "/v1/snapshots/snap-1/restore",
        response={"files_restored": 4},
        check=_ok(4),
    ),
    Case(
        "restore_snapshot missing count",
        "restore_snapshot",
        ("snap-1",),
        {},
        "POST",
        "/v1/snapshots/snap-1/restore",
        response={},
        check=_ok(0),
    ),
    Case(
        "delete_snapshot",
        "delete_snapshot",
        ("snap-1",),
        {},
        "DELETE",
        "/v1/snapshots/snap-1",
        response={},
        check=_ok(None),
    ),
]

_W = f"/v1/workspaces/{WS}"

ADMIN_CASES = [
    Case(
        "me",
        "me",
        (),
        {},
        "GET",
        "/v1/me",
        runtime=False,
        response={"workspace_id": WS, "scope": "admin"},
        check=lambda r: r.scope == "admin" and r.capabilities == (),
    ),
    Case(
        "create_key",
        "create_key",
        ("agent",),
        {"namespace": "s1"},
        "POST",
        f"{_W}/keys",
        body={"name": "agent", "namespace": "s1", "admin": False},
        status=201,
        response={**KEY_META, "api_key": "trove-sk-new"},
        runtime=False,
        check=lambda r: isinstance(r, KeyCreated) and r.api_key == "trove-sk-new",
    ),
    Case(
        "create admin key",
        "create_key",
        ("ops",),
        {"admin": True},
        "POST",
        f"{_W}/keys",
        body={"name": "ops", "namespace": None, "admin": True},
        status=201,
        response={**KEY_META, "scope": "admin", "api_key": "k"},
        runtime=False,
    ),
    Case(
        "list_keys",
        "list_keys",
        (),
        {},
        "GET",
        f"{_W}/keys",
        runtime=False,
        response={"keys": [KEY_META]},
        check=_ok([KeyMetadata.from_dict(KEY_META)]),
    ),
    Case(
        "list_keys of a body without the list",
        "list_keys",
        (),
        {},
        "GET",
        f"{_W}/keys",
        runtime=False,
        response={},
        check=_ok([]),
    ),
    Case(
        "revoke_key",
        "revoke_key",
        ("key-1",),
        {},
        "DELETE",
        f"{_W}/keys/key-1",
        response={"key_id": "key-1", "revoked": True},
        runtime=False,
    ),
    Case(
        "create_webhook defaults",
        "create_webhook",
        ("https://example.com/h",),
        {},
        "POST",
        f"{_W}/webhooks",
        status=201,
        runtime=False,
        body={
            "url": "https://example.com/h",
            "events": ["*"],
            "namespace": None,
            "description": None,
        },
        response={**WEBHOOK, "signing_secret": "trove-whsec-1"},
        check=lambda r: isinstance(r, WebhookCreated) and r.signing_secret == "trove-whsec-1",
    ),
    Case(
        "create_webhook empty events become *",
        "create_webhook",
        ("https://e.com",),
        {"events": [], "namespace": "a", "description": "d"},
        "POST",
        f"{_W}/webhooks",
        status=201,
        runtime=False,
        body={"url": "https://e.com", "events": ["*"], "namespace": "a", "description": "d"},
        response={**WEBHOOK, "signing_secret": "s"},
    ),
    Case(
        "create_webhook takes one event type as a string",
        "create_webhook",
        ("https://e.com",),
        {"events": "file.written"},
        "POST",
        f"{_W}/webhooks",
        status=201,
        runtime=False,
        body={
            "url": "https://e.com",
            "events": ["file.written"],
            "namespace": None,
            "description": None,
        },
        response={**WEBHOOK, "signing_secret": "s"},
    ),
    Case(
        "update_webhook takes comma-separated event types as a string",
        "update_webhook",
        ("wh-1",),
        {"events": "file.written, file.deleted"},
        "PATCH",
        f"{_W}/webhooks/wh-1",
        runtime=False,
        body={"events": ["file.written", "file.deleted"]},
        response=WEBHOOK,
    ),
    Case(
        "list_webhooks with health",
        "list_webhooks",
        (),
        {},
        "GET",
        f"{_W}/webhooks",
        runtime=False,
        response={
            "webhooks": [
                {
                    **WEBHOOK,
                    "last_delivery_at": "t",
                    "last_delivery_ok": False,
                    "last_delivery_status": 500,
                }
            ]
        },
        check=lambda r: r[0].last_delivery_status == 500 and r[0].enabled,
    ),
    Case(
        "update_webhook sends only the changes",
        "update_webhook",
        ("wh-1",),
        {"enabled": False, "namespace": None},
        "PATCH",
        f"{_W}/webhooks/wh-1",
        runtime=False,
        body={"namespace": None, "enabled": False},
        response={**WEBHOOK, "enabled": False},
        check=lambda r: isinstance(r, WebhookMetadata) and r.enabled is False,
    ),
    Case(
        "delete_webhook",
        "delete_webhook",
        ("wh-1",),
        {},
        "DELETE",
        f"{_W}/webhooks/wh-1",
        runtime=False,
        response={"webhook_id": "wh-1", "deleted": True},
    ),
    Case(
        "test_webhook",
        "test_webhook",
        ("wh-1",),
        {},
        "POST",
        f"{_W}/webhooks/wh-1/test",
        runtime=False,
        response={"ok": True, "status": 204, "event_id": "evt-zzz"},
        check=_ok(WebhookTestResult(True, "evt-zzz", 204, None)),
    ),
    Case(
        "list_webhooks of a body without the list",
        "list_webhooks",
        (),
        {},
        "GET",
        f"{_W}/webhooks",
        runtime=False,
        response={},
        check=_ok([]),
    ),
    Case(
        "test_webhook of a minimal answer",
        "test_webhook",
        ("wh-1",),
        {},
        "POST",
        f"{_W}/webhooks/wh-1/test",
        runtime=False,
        response={"event_id": "evt-zzz"},
        check=_ok(WebhookTestResult(False, "evt-zzz")),
    ),
    Case(
        "rotate_webhook_secret",
        "rotate_webhook_secret",
        ("wh-1",),
        {"grace_seconds": 60},
        "POST",
        f"{_W}/webhooks/wh-1/rotate-secret",
        body={"grace_seconds": 60},
        runtime=False,
        response={"signing_secret": "s2", "previous_expires_at": "t"},
        check=_ok(SecretRotation("s2", "t")),
    ),
    Case(
        "list_deliveries",
        "list_deliveries",
        ("wh-1",),
        {"limit": 5, "cursor": "c1"},
        "GET",
        f"{_W}/webhooks/wh-1/deliveries",
        params={"limit": "5", "cursor": "c1"},
        runtime=False,
        response={"deliveries": [DELIVERY], "next_cursor": "c2"},
        check=_ok(DeliveryPage((Delivery.from_dict(DELIVERY),), "c2")),
    ),
    Case(
        "retry_delivery",
        "retry_delivery",
        ("wh-1", "dl-1"),
        {},
        "POST",
        f"{_W}/webhooks/wh-1/deliveries/dl-1/retry",
        runtime=False,
        response=DELIVERY,
    ),
    Case(
        "replay_webhook",
        "replay_webhook",
        ("wh-1",),
        {"since": "1h", "types": ["file.written"]},
        "POST",
        f"{_W}/webhooks/wh-1/replay",
        runtime=False,
        body={"since": "1h", "types": ["file.written"]},
        response={"queued": 7},
        check=_ok(ReplayResult(7)),
    ),
    Case(
        "list_namespaces",
        "list_namespaces",
        (),
        {},
        "GET",
        f"{_W}/namespaces",
        runtime=False,
        response={
            "namespaces": [{"name": "a", "file_count": 2, "size_bytes": 9, "modified_at": None}]
        },
        check=_ok([NamespaceInfo("a", 2, 9, None)]),
    ),
    Case(
        "list_namespaces of a body without the list",
        "list_namespaces",
        (),
        {},
        "GET",
        f"{_W}/namespaces",
        runtime=False,
        response={},
        check=_ok([]),
    ),
    Case(
        "delete_namespace",
        "delete_namespace",
        ("a",),
        {},
        "DELETE",
        f"{_W}/namespaces/a",
        runtime=False,
        response={"namespace": "a", "files_deleted": 3},
        check=_ok(3),
    ),
    Case(
        "list_events",
        "list_events",
        (),
        {
            "since": "2026-04-30T00:00:00Z",
            "types": ["file.written", "exec.completed"],
            "namespace": "a",
            "limit": 20,
            "cursor": "c",
        },
        "GET",
        f"{_W}/events",
        runtime=False,
        params={
            "since": "2026-04-30T00:00:00Z",
            "types": "file.written,exec.completed",
            "namespace": "a",
            "limit": "20",
            "cursor": "c",
        },
        response={"events": [], "next_cursor": None},
        check=lambda r: r.events == () and r.next_cursor is None,
    ),
]


def call_args(case: Case) -> tuple[Any, ...]:
    return case.args() if callable(case.args) else case.args


def respond(case: Case) -> httpx.Response:
    if isinstance(case.response, bytes):
        return httpx.Response(case.status, content=case.response, headers=case.response_headers)
    if isinstance(case.response, str):
        return httpx.Response(case.status, text=case.response, headers=case.response_headers)
    return httpx.Response(case.status, json=case.response or {}, headers=case.response_headers)


def assert_request(case: Case, request: httpx.Request, content: bytes) -> None:
    assert request.method == case.http_method
    assert request.url.raw_path.split(b"?")[0].decode() == case.path
    assert dict(request.url.params) == case.params
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"] == f"trove-sdk-python/{__version__}"
    if case.runtime:
        assert request.headers["x-namespace"] == NS
    else:
        assert "x-namespace" not in request.headers
    if case.raw_body is not None:
        assert content == case.raw_body
        assert request.headers["content-length"] == str(len(case.raw_body))
    elif case.body is NO_BODY:
        assert content == b""
        assert "content-type" not in request.headers
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(content) == case.body
