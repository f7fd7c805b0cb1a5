"""``trove.db``: the schema, its versioned migrations, and the connection the server uses.

SQLite in WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed
(``kill -9``) — the WAL is in the OS page cache — and costs no fsync. One connection serves
the event loop (queries here are index lookups measured in microseconds); other processes
and threads (``trove dev`` bootstrapping, tests) open their own, and ``busy_timeout`` makes
writers queue instead of failing.

Migrations are append-only: ``MIGRATIONS[n]`` moves ``PRAGMA user_version`` from n to n+1.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MIGRATIONS", "Database", "SchemaTooNew"]

MIGRATIONS: tuple[str, ...] = (
    # 0 → 1: the whole first schema.
    """
    CREATE TABLE workspaces (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        created_ms  INTEGER NOT NULL
    );

    CREATE TABLE api_keys (
        id            TEXT PRIMARY KEY,
        workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
        name          TEXT NOT NULL,
        prefix        TEXT NOT NULL,
        digest        TEXT NOT NULL UNIQUE,
        scope         TEXT NOT NULL CHECK (scope IN ('workspace', 'admin')),
        namespace     TEXT,
        created_ms    INTEGER NOT NULL,
        revoked_ms    INTEGER
    );
    CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_ms);

    CREATE TABLE webhooks (
        id                   TEXT PRIMARY KEY,
        workspace_id         TEXT NOT NULL REFERENCES workspaces(id),
        url                  TEXT NOT NULL,
        events               TEXT NOT NULL,            -- JSON array
        namespace            TEXT,
        description          TEXT,
        enabled              INTEGER NOT NULL DEFAULT 1,
        secret               TEXT NOT NULL,
        previous_secret      TEXT,
        previous_expires_ms  INTEGER,
        created_ms           INTEGER NOT NULL,
        last_delivery_ms     INTEGER,
        last_delivery_ok     INTEGER,
        last_delivery_status INTEGER
    );
    CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, created_ms);

    -- The event log. ``seq`` is the stream cursor: AUTOINCREMENT never reuses a value,
    -- even after old rows are pruned, so a cursor can never point at a different event.
    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        workspace_id  TEXT NOT NULL,
        namespace     TEXT,
        type          TEXT NOT NULL,
        created_ms    INTEGER NOT NULL,
        body          TEXT NOT NULL                      -- the exact envelope JSON we send
    );
    CREATE INDEX events_by_workspace ON events (workspace_id, seq);
    CREATE INDEX events_by_time ON events (workspace_id, created_ms);

    -- One row per delivery attempt; a pending row is the queue entry for the next attempt,
    -- 'sending' while the worker has it in flight (back to pending if the server dies).
    CREATE TABLE deliveries (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        webhook_id    TEXT NOT NULL,
        event_seq     INTEGER NOT NULL,
        attempt       INTEGER NOT NULL,              -- X-Trove-Attempt: 1, 2, 3… per event
        try_no        INTEGER NOT NULL,              -- position in the retry schedule
        state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done')),
        due_ms        INTEGER NOT NULL,
        created_ms    INTEGER NOT NULL,
        attempted_ms  INTEGER,
        status        INTEGER,
        ok            INTEGER NOT NULL DEFAULT 0,
        error         TEXT,
        duration_ms   INTEGER,
        next_ms       INTEGER
    );
    CREATE INDEX deliveries_due ON deliveries (due_ms) WHERE state = 'pending';
    CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, seq);
    CREATE INDEX deliveries_by_event ON deliveries (webhook_id, event_seq);

    CREATE TABLE snapshots (
        id            TEXT PRIMARY KEY,
        workspace_id  TEXT NOT NULL,
        namespace     TEXT NOT NULL,
        label         TEXT,
        size_bytes    INTEGER NOT NULL,
        files         INTEGER NOT NULL,
        created_ms    INTEGER NOT NULL
    );
    CREATE INDEX snapshots_by_namespace ON snapshots (workspace_id, namespace, created_ms);

    CREATE TABLE device_codes (
        digest        TEXT PRIMARY KEY,
        user_code     TEXT NOT NULL UNIQUE,
        status        TEXT NOT NULL
                      CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
        workspace_id  TEXT,
        key_id        TEXT,
        created_ms    INTEGER NOT NULL,
        expires_ms    INTEGER NOT NULL
    );

    -- Browser sessions of workspace owners (dashboard, device approval) and the one-time
    -- links that open them. Only digests are stored.
    CREATE TABLE sessions (
        digest        TEXT PRIMARY KEY,
        workspace_id  TEXT NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('session', 'link')),
        created_ms    INTEGER NOT NULL,
        expires_ms    INTEGER NOT NULL
    );
    """,
    # 2: a session opened with an admin key remembers it, and ends when the key is revoked.
    """
    ALTER TABLE sessions ADD COLUMN key_id TEXT;
    """,
)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer server; refusing to touch it."""


class Database:
    """A connection to ``trove.db`` with the schema migrated to the newest version."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (``transaction``).
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if new_file:
            os.chmod(path, 0o600)
        self.conn.row_factory = sqlite3.Row
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "temp_store=MEMORY",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self._migrate()

    def _migrate(self) -> None:
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"{self.path} has schema version {version}; this server knows up to "
                f"{len(MIGRATIONS)} — upgrade trove-sdk[server]"
            )
        for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                # executescript would COMMIT our transaction; run statement by statement.
                for statement in _statements(script):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error). Not re-entrant."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (ours contain no ';' inside literals)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
