"""The SQLite inbox: receivers and workers on one host sharing one database file.

``sqlite:///relative.db`` or ``sqlite:////abs/path.db`` (``?table=``, ``?ordered=true``).
Commits are ``synchronous=FULL`` so a ``202`` is only sent once the delivery would survive a
power cut, not just a crash of the process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from trove_webhooks._urls import split_options
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.inbox.base import SqlInbox
from trove_webhooks.inbox.migrations import SCHEMA_TABLE_SUFFIX, pending_migrations
from trove_webhooks.stores.sqlite import (
    connect_sqlite,
    run_in_transaction,
    sqlite_path_from_url,
    unless_stuck,
)

__all__ = ["SQLiteInbox"]

T = TypeVar("T")


class SQLiteInbox(SqlInbox):
    """Sync SQLite inbox; one connection per thread, every operation one transaction."""

    def __init__(self, path: str, **options: Any) -> None:
        super().__init__(**options)
        self.path = path
        # One connection per process; its threads take turns on a Python lock (a quick
        # hand-off) rather than on SQLite's file lock, whose busy handler sleeps.
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._migrated = False

    @classmethod
    def from_url(cls, url: str) -> SQLiteInbox:
        rest, options = split_options(url, ["table", "ordered"])
        return cls(
            sqlite_path_from_url(rest),
            table=options.get("table", "trove_webhook_inbox"),
            ordered=options.get("ordered", "").lower() in ("1", "true", "yes"),
        )

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            conn = connect_sqlite(self.path)
            conn.execute("PRAGMA synchronous=FULL")
            self._connection = conn
        if not self._migrated:
            self._migrate(self._connection)
        return self._connection

    def _migrate(self, conn: sqlite3.Connection) -> None:
        meta = self.table + SCHEMA_TABLE_SUFFIX
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {meta} (version INTEGER NOT NULL)")
            row = conn.execute(f"SELECT MAX(version) FROM {meta}").fetchone()  # noqa: S608
            for version, statements in pending_migrations(self.migrations(), row[0] or 0):
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {meta} (version) VALUES (?)", (version,))  # noqa: S608
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._migrated = True

    def _execute(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            try:
                conn = self._conn()
                conn.execute("BEGIN IMMEDIATE")
                result: T = run_in_transaction(conn, [work])[0]
                return result
            except (sqlite3.Error, OSError) as exc:  # locked past the busy timeout, disk full
                self._connection = unless_stuck(self._connection)
                raise StoreUnavailableError(f"SQLite inbox {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()
