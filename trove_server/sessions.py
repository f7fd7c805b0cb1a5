"""Browser sessions of a workspace owner (dashboard, device-login approval).

A session starts from a one-time dashboard link (a fresh one is printed at every start of
``trove dev`` / ``trove server``) or from an admin key pasted into the sign-in form; such a
session lasts only as long as the key (revoking a leaked key also ends the sessions it opened,
which could approve logins). The cookie is ``HttpOnly``, ``SameSite=Strict``; only its digest
is stored. Forms carry a CSRF token derived from the cookie, which a page on another origin
can neither read nor compute.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from trove_server.clock import now_ms
from trove_server.db import Database
from trove_server.tokens import new_session_token, same_digest, secret_digest

__all__ = [
    "COOKIE",
    "consume_link",
    "csrf_token",
    "end_session",
    "session_workspace",
    "start_session",
    "valid_csrf",
]

COOKIE = "trove_session"
SESSION_TTL_MS = 12 * 3600 * 1000


def consume_link(db: Database, token: str) -> str | None:
    """The workspace of a one-time dashboard link, which stops working now."""
    digest = secret_digest(token)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT workspace_id FROM sessions WHERE digest = ? AND kind = 'link' "
            "AND expires_ms > ?",
            (digest, now_ms()),
        ).fetchone()
        conn.execute("DELETE FROM sessions WHERE digest = ? AND kind = 'link'", (digest,))
    return None if row is None else str(row["workspace_id"])


def start_session(
    db: Database,
    workspace_id: str,
    response: Response,
    *,
    secure: bool,
    key_id: str | None = None,
) -> None:
    """A session cookie; ``key_id``: the admin key it was opened with (None: a link)."""
    token = new_session_token()
    now = now_ms()
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sessions (digest, workspace_id, kind, created_ms, expires_ms, key_id) "
            "VALUES (?, ?, 'session', ?, ?, ?)",
            (secret_digest(token), workspace_id, now, now + SESSION_TTL_MS, key_id),
        )
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_TTL_MS // 1000,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def session_workspace(db: Database, request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    digest = secret_digest(token)
    row = db.one(
        "SELECT s.workspace_id, s.digest FROM sessions s "
        "LEFT JOIN api_keys k ON k.id = s.key_id "
        "WHERE s.digest = ? AND s.kind = 'session' AND s.expires_ms > ? "
        "AND (s.key_id IS NULL OR (k.id IS NOT NULL AND k.revoked_ms IS NULL))",
        (digest, now_ms()),
    )
    if row is None or not same_digest(row["digest"], digest):
        return None
    return str(row["workspace_id"])


def end_session(db: Database, request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        with db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE digest = ?", (secret_digest(token),))
    response.delete_cookie(COOKIE, path="/")


def csrf_token(request: Request) -> str:
    token = request.cookies.get(COOKIE, "")
    return hmac.new(token.encode(), b"trove-csrf", hashlib.sha256).hexdigest()


def valid_csrf(request: Request, submitted: str) -> bool:
    return bool(request.cookies.get(COOKIE)) and hmac.compare_digest(
        csrf_token(request).encode(), submitted.encode("utf-8", "replace")
    )
