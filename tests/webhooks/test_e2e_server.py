"""End to end: the local Trove server delivers every event type it emits to a receiver under
uvicorn, and each typed handler sees its own typed data.

The receiver is subscribed in a fresh workspace so only this test's actions reach it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from tests.webhooks.conftest import free_port
from trove_sdk import (
    EVENT_TYPES,
    ExecCompleted,
    FileDeleted,
    FileWritten,
    KeyCreatedEvent,
    KeyRevoked,
    NamespaceDeleted,
    SnapshotCreated,
    SnapshotDeleted,
    SnapshotRestored,
    TroveAdminClient,
    TroveClient,
    WebhookTest,
)
from trove_webhooks import DeliveryContext, WebhookRouter, create_app

# workspace.created is emitted when a workspace is born, before anyone can subscribe to it.
EMITTED = sorted(set(EVENT_TYPES) - {"workspace.created"})


def test_the_server_delivers_every_event_type_to_typed_handlers(trove_server: Any) -> None:
    creds = trove_server.create_workspace("e2e-receiver")
    base = trove_server.base_url
    port = free_port()
    admin = TroveAdminClient(creds.admin_key, creds.workspace_id, base_url=base)
    hook = admin.create_webhook(f"http://127.0.0.1:{port}/trove/events", events=["*"])

    seen: dict[str, list[tuple[Any, DeliveryContext]]] = {}
    lock = threading.Lock()
    router = WebhookRouter()

    def keep(event: Any, context: DeliveryContext) -> None:
        with lock:
            seen.setdefault(event.type, []).append((event, context))

    for event_type in EMITTED:
        router.on(EVENT_TYPES[event_type], keep)

    app = create_app(router, secret=hook.signing_secret, path="/trove/events")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with TroveClient(creds.api_key, "e2e", base_url=base, workspace_id=creds.workspace_id) as c:
            c.write("workspace/notes/plan.md", "# plan\n")
            c.exec("echo done > workspace/out.txt")
            c.delete("workspace/notes/plan.md")
            snap = c.create_snapshot("before")
            c.restore_snapshot(snap.snapshot_id)
            c.delete_snapshot(snap.snapshot_id)
        key = admin.create_key("e2e-session", namespace="e2e")
        admin.revoke_key(key.key_id)
        admin.test_webhook(hook.webhook_id)
        admin.delete_namespace("e2e")
        deadline = time.monotonic() + 30
        while set(seen) != set(EMITTED) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.should_exit = True
        thread.join(10)
        admin.close()

    assert sorted(seen) == EMITTED
    for event_type, calls in seen.items():
        for event, context in calls:
            assert type(event) is EVENT_TYPES[event_type]
            assert event.workspace_id == creds.workspace_id
            assert context.delivery_id and context.attempt >= 1 and context.secret_index == 0

    def first(event_type: str) -> Any:
        return seen[event_type][0][0]

    written = [e.data.path for e, _ in seen["file.written"]]
    assert isinstance(first("file.written"), FileWritten)
    assert "workspace/notes/plan.md" in written and "workspace/out.txt" in written
    exec_event: ExecCompleted = first("exec.completed")
    assert exec_event.data.command == "echo done > workspace/out.txt"
    assert exec_event.data.exit_code == 0
    deleted: FileDeleted = first("file.deleted")
    assert deleted.data.path == "workspace/notes/plan.md"
    created: SnapshotCreated = first("snapshot.created")
    assert (created.data.snapshot_id, created.data.label) == (snap.snapshot_id, "before")
    restored: SnapshotRestored = first("snapshot.restored")
    assert restored.data.snapshot_id == snap.snapshot_id
    gone: SnapshotDeleted = first("snapshot.deleted")
    assert gone.data.snapshot_id == snap.snapshot_id
    key_created: KeyCreatedEvent = first("key.created")
    assert key_created.data.key_id == key.key_id and key_created.data.name == "e2e-session"
    revoked: KeyRevoked = first("key.revoked")
    assert revoked.data.key_id == key.key_id
    ping: WebhookTest = first("webhook.test")
    assert ping.data.message
    ns_deleted: NamespaceDeleted = first("namespace.deleted")
    assert ns_deleted.data.namespace == "e2e"
    assert ns_deleted.namespace == "e2e"
