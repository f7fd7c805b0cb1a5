"""Device login (CONTRACT §2.10): codes, their lifecycle, and the key an approval mints.

``start`` → a device code (secret, for the CLI; stored as a digest) and a user code (shown to
the human). The workspace owner approves or denies the user code in the browser. Approval
mints a workspace key, which the CLI's next ``poll`` receives exactly once; the plaintext
waits in memory only, never in the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trove_server.auth import mint_key
from trove_server.clock import now_ms
from trove_server.tokens import new_device_code, new_user_code, secret_digest

if TYPE_CHECKING:
    from trove_server.state import ServerState

__all__ = ["PendingCode", "decide", "pending_codes", "poll", "start"]


@dataclass(frozen=True)
class PendingCode:
    user_code: str
    expires_ms: int


def start(server: ServerState) -> tuple[str, str]:
    """A new (device_code, user_code) pair."""
    device_code = new_device_code()
    now = now_ms()
    ttl = server.settings.device_code_ttl * 1000
    with server.db.transaction() as conn:
        while True:
            user_code = new_user_code()
            try:
                conn.execute(
                    "INSERT INTO device_codes (digest, user_code, status, created_ms, "
                    "expires_ms) VALUES (?, ?, 'pending', ?, ?)",
                    (secret_digest(device_code), user_code, now, now + ttl),
                )
                break
            except sqlite3.IntegrityError:
                continue  # user code already taken: draw again
    return device_code, user_code


def poll(server: ServerState, device_code: str) -> dict[str, str] | None:
    """The CLI's view of a code, or None for a code this server never issued."""
    digest = secret_digest(device_code)
    row = server.db.one("SELECT * FROM device_codes WHERE digest = ?", (digest,))
    if row is None:
        return None
    status = row["status"]
    if status == "pending":
        return {"status": "expired" if now_ms() > row["expires_ms"] else "pending"}
    if status == "denied":
        return {"status": "denied"}
    if status == "approved":
        minted = server.device_keys.pop(digest, None)
        with server.db.transaction() as conn:
            conn.execute("UPDATE device_codes SET status = 'consumed' WHERE digest = ?", (digest,))
        if minted is not None:
            return {"status": "approved", **minted}
    # Consumed, or approved before a restart lost the key: the CLI must start again.
    return {"status": "expired"}


def pending_codes(server: ServerState) -> list[PendingCode]:
    rows = server.db.all(
        "SELECT user_code, expires_ms FROM device_codes WHERE status = 'pending' "
        "AND expires_ms > ? ORDER BY created_ms",
        (now_ms(),),
    )
    return [PendingCode(r["user_code"], r["expires_ms"]) for r in rows]


def decide(server: ServerState, workspace_id: str, user_code: str, approve: bool) -> str:
    """Approve (minting a key in ``workspace_id``) or deny a pending code.

    Returns ``approved``, ``denied``, or ``unknown`` for a code that is not pending.
    """
    code = user_code.strip().upper()
    with server.db.transaction() as conn:
        row = conn.execute(
            "SELECT digest FROM device_codes WHERE user_code = ? AND status = 'pending' "
            "AND expires_ms > ?",
            (code, now_ms()),
        ).fetchone()
        if row is None:
            return "unknown"
        if not approve:
            conn.execute(
                "UPDATE device_codes SET status = 'denied' WHERE digest = ?", (row["digest"],)
            )
            return "denied"
        minted = mint_key(conn, workspace_id, f"device login {code}")
        conn.execute(
            "UPDATE device_codes SET status = 'approved', workspace_id = ?, key_id = ? "
            "WHERE digest = ?",
            (workspace_id, minted.metadata["key_id"], row["digest"]),
        )
    server.device_keys[row["digest"]] = {
        "api_key": minted.api_key,
        "workspace_id": workspace_id,
        "key_id": minted.metadata["key_id"],
    }
    meta = minted.metadata
    server.events.emit(
        workspace_id,
        "key.created",
        {"key_id": meta["key_id"], "name": meta["name"], "scope": meta["scope"], "namespace": None},
    )
    return "approved"
