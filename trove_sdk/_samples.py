"""Realistic sample events, one per catalogued type.

Used by ``trove webhooks trigger``, by ``trove_webhooks.testing`` and by users' own tests, so a
receiver can be exercised without a server. Every sample parses with ``parse_event``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from trove_sdk._events import API_VERSION

__all__ = ["SAMPLE_DATA", "new_event_id", "sample_event", "utc_timestamp"]

SAMPLE_DATA: Mapping[str, Mapping[str, Any]] = {
    "file.written": {"path": "workspace/notes/plan.md", "size_bytes": 1832, "source": "write"},
    "file.deleted": {"path": "workspace/tmp/scratch.txt", "source": "delete"},
    "exec.completed": {
        "command": "python3 analyse.py --input workspace/data.csv",
        "exit_code": 0,
        "duration_ms": 412,
        "stdin_bytes": 0,
        "stdout": "rows=1204 mean=17.3\n",
        "timed_out": False,
    },
    "snapshot.created": {
        "snapshot_id": "snap-4f1c2a9e0b7d",
        "label": "before-refactor",
        "size_bytes": 48213,
    },
    "snapshot.restored": {"snapshot_id": "snap-4f1c2a9e0b7d", "files_restored": 37},
    "snapshot.deleted": {"snapshot_id": "snap-4f1c2a9e0b7d"},
    "namespace.deleted": {"namespace": "session-7f3a", "files_deleted": 12},
    "workspace.created": {"workspace_id": "ws-d69634745de7ce97", "name": "acme-agents"},
    "key.created": {
        "key_id": "key-8c1e55b2a0f3",
        "name": "session-7f3a",
        "scope": "workspace",
        "namespace": "session-7f3a",
    },
    "key.revoked": {"key_id": "key-8c1e55b2a0f3"},
    "webhook.test": {"message": "Hello from Trove! This is a test delivery."},
}

# Workspace-level events carry no namespace.
_WORKSPACE_LEVEL = {"workspace.created", "key.created", "key.revoked", "webhook.test"}


def new_event_id() -> str:
    return "evt-" + secrets.token_hex(6)


def utc_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds and ``Z`` (CONTRACT D14)."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def sample_event(
    event_type: str,
    *,
    data: Mapping[str, Any] | None = None,
    namespace: str | None = "alice",
    workspace_id: str = "ws-d69634745de7ce97",
    event_id: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """A complete envelope for ``event_type``; ``data`` entries override the sample's.

    Types outside the catalogue are allowed (to exercise unknown-type handling) and get
    ``data`` as given.
    """
    merged = dict(SAMPLE_DATA.get(event_type, {}))
    merged.update(data or {})
    return {
        "id": event_id or new_event_id(),
        "type": event_type,
        "api_version": API_VERSION,
        "workspace_id": workspace_id,
        "namespace": None if event_type in _WORKSPACE_LEVEL else namespace,
        "created_at": created_at or utc_timestamp(),
        "data": merged,
    }
