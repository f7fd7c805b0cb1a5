"""First credentials: a workspace with an admin key and a workspace key.

Used by open sign-up (X8), ``trove server --bootstrap``, ``trove dev`` and the test helpers.
The database keeps only key digests, so ``trove dev`` stores the plaintext keys it needs to
reuse in ``<data dir>/dev.json`` (mode 0600) — the local equivalent of a password manager
entry — and checks them against the database on every start.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from trove_server.auth import mint_key
from trove_server.clock import now_ms
from trove_server.db import Database
from trove_server.delivery import fanout
from trove_server.eventlog import NewEvent, append
from trove_server.tokens import new_session_token, new_workspace_id, secret_digest

__all__ = [
    "Credentials",
    "create_workspace",
    "ensure_dev_workspace",
    "mint_dashboard_link",
]

DEV_STATE_FILE = "dev.json"
DASHBOARD_LINK_TTL_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Credentials:
    workspace_id: str
    admin_key: str
    api_key: str
    admin_key_id: str = ""
    api_key_id: str = ""
    name: str = ""


def create_workspace_in(conn: sqlite3.Connection, name: str) -> Credentials:
    """Inside the caller's transaction: the workspace, its two keys and their events."""
    workspace_id = new_workspace_id()
    conn.execute(
        "INSERT INTO workspaces (id, name, created_ms) VALUES (?, ?, ?)",
        (workspace_id, name, now_ms()),
    )
    admin = mint_key(conn, workspace_id, "admin", scope="admin")
    runtime = mint_key(conn, workspace_id, "default", scope="workspace")
    events = [NewEvent("workspace.created", {"workspace_id": workspace_id, "name": name})]
    for minted in (admin, runtime):
        meta = minted.metadata
        events.append(
            NewEvent(
                "key.created",
                {
                    "key_id": meta["key_id"],
                    "name": meta["name"],
                    "scope": meta["scope"],
                    "namespace": meta["namespace"],
                },
            )
        )
    for event in events:
        fanout(conn, append(conn, workspace_id, event))
    return Credentials(
        workspace_id=workspace_id,
        admin_key=admin.api_key,
        api_key=runtime.api_key,
        admin_key_id=admin.metadata["key_id"],
        api_key_id=runtime.metadata["key_id"],
        name=name,
    )


def create_workspace(db: Database, name: str) -> Credentials:
    with db.transaction() as conn:
        return create_workspace_in(conn, name)


def mint_dashboard_link(db: Database, workspace_id: str) -> str:
    """A one-time token that opens an owner session in the browser (``/dashboard?token=``)."""
    token = new_session_token()
    now = now_ms()
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sessions (digest, workspace_id, kind, created_ms, expires_ms) "
            "VALUES (?, ?, 'link', ?, ?)",
            (secret_digest(token), workspace_id, now, now + DASHBOARD_LINK_TTL_MS),
        )
    return token


def _key_is_live(db: Database, key: str, workspace_id: str) -> bool:
    row = db.one(
        "SELECT 1 FROM api_keys WHERE digest = ? AND workspace_id = ? AND revoked_ms IS NULL",
        (secret_digest(key), workspace_id),
    )
    return row is not None


def ensure_dev_workspace(data_dir: Path, db: Database) -> tuple[Credentials, bool]:
    """The ``trove dev`` workspace: reused when ``dev.json`` still matches the database,
    created (and saved) otherwise. Returns the credentials and whether they are new."""
    state_file = data_dir / DEV_STATE_FILE
    try:
        saved = Credentials(**json.loads(state_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        saved = None
    if (
        saved is not None
        and _key_is_live(db, saved.admin_key, saved.workspace_id)
        and _key_is_live(db, saved.api_key, saved.workspace_id)
    ):
        return saved, False
    created = create_workspace(db, "local")
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".dev-", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(created), handle, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, state_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return created, True
