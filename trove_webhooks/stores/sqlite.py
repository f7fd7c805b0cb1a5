"""The SQLite store: many receiver processes on one host sharing one database file.

``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (``?table=`` renames the
table). WAL mode lets readers run beside the single writer; a claim is one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, so two processes never both
acquire the same event.
"""

# Table names are checked by safe_identifier() before they reach statement text.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from trove_webhooks._batching import LoopBatcher
from trove_webhooks._threads import StorageThreads
from trove_webhooks._urls import safe_identifier, split_options
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.stores.base import (
    DEFAULT_RETENTION_SECONDS,
    SWEEP_EVERY,
    Claim,
    ClaimStatus,
    new_token,
)

__all__ = [
    "AsyncSQLiteStore",
    "SQLiteStore",
    "connect_sqlite",
    "run_in_transaction",
    "sqlite_path_from_url",
    "unless_stuck",
]

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
# About SQLite's own 1000-page threshold at the batch sizes a busy receiver commits.
CHECKPOINT_EVERY_COMMITS = 32

logger = logging.getLogger("trove_webhooks.stores.sqlite")


class _Busy(Exception):
    """The fast path would have had to wait: run the operation in a worker thread instead."""


def sqlite_path_from_url(url: str) -> str:
    """``sqlite:///a.db`` → ``a.db``; ``sqlite:////tmp/a.db`` → ``/tmp/a.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError("a SQLite URL looks like sqlite:///relative.db or sqlite:////abs.db")
    return url[len(prefix) :].split("?", 1)[0]


def connect_sqlite(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL, waiting on locks."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Switching a new file to WAL can fail at once with "database is locked" (the busy handler
    # does not cover it) when several processes start together: retry for a few seconds.
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.01)
    # NORMAL in WAL mode is durable against process crashes (only an OS crash can lose the
    # last commits), which is the failure a receiver's lease protects against. The inbox,
    # which must not lose an acknowledged delivery even then, raises this to FULL.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def run_in_transaction(
    conn: sqlite3.Connection, works: Sequence[Callable[[Any], Any]]
) -> list[Any]:
    """Run ``works`` inside the transaction just begun on ``conn``, then commit.

    Whatever fails — a statement or the COMMIT itself (a full disk) — the transaction is rolled
    back before the error goes on: one left open would make every later BEGIN fail, turning
    one bad moment into an outage that lasts until the process restarts.
    """
    try:
        results = [work(conn) for work in works]
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the original error is the one to report
                conn.execute("ROLLBACK")
        raise
    return results


def unless_stuck(conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
    """``conn``, or ``None`` once it is closed because even its ROLLBACK failed: closing ends
    the transaction, and the next call opens a fresh connection."""
    if conn is not None and conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        return None
    return conn


class _SQLiteBase:
    """Statement text and lease arithmetic for both twins."""

    shared_across_processes: ClassVar[bool] = True
    shared_across_hosts: ClassVar[bool] = False
    # SQLite copies the write-ahead log back into the database file from the commit that
    # takes it past 1000 pages, and fsyncs twice while doing so. The async store commits on
    # the event loop, which must not stall for that: it checkpoints in a thread instead.
    checkpoints_on_commit: ClassVar[bool] = True

    def __init__(
        self,
        path: str,
        *,
        table: str = "trove_webhook_claims",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self.path = path
        self.table = safe_identifier(table, "table")
        self.retention_seconds = retention_seconds
        self._clock = clock
        self._connection: sqlite3.Connection | None = None
        self._busy_timeout = BUSY_TIMEOUT_MS
        self._lock = threading.Lock()
        self._writes = 0
        t = self.table
        self._schema = (
            f"CREATE TABLE IF NOT EXISTS {t} (event_id TEXT PRIMARY KEY, state TEXT NOT NULL, "
            "token TEXT NOT NULL, expires_at REAL NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_expires ON {t} (expires_at)",
        )
        # A running row expires with its lease, a done row after the retention time; an
        # expired row (or our own, when a retry follows a lost reply) may be claimed afresh.
        self._claim_sql = (
            f"INSERT INTO {t} (event_id, state, token, expires_at) VALUES (?, 'running', ?, ?) "
            "ON CONFLICT (event_id) DO UPDATE SET state = 'running', token = excluded.token, "
            f"expires_at = excluded.expires_at WHERE {t}.expires_at <= ? "
            f"OR {t}.token = excluded.token RETURNING token"
        )
        self._state_sql = f"SELECT state, expires_at FROM {t} WHERE event_id = ?"
        self._complete_sql = (
            f"INSERT INTO {t} (event_id, state, token, expires_at) VALUES (?, 'done', ?, ?) "
            "ON CONFLICT (event_id) DO UPDATE SET state = 'done', token = excluded.token, "
            "expires_at = excluded.expires_at"
        )
        self._release_sql = (
            f"DELETE FROM {t} WHERE event_id = ? AND token = ? AND state = 'running'"
        )
        self._sweep_sql = f"DELETE FROM {t} WHERE expires_at <= ?"

    @classmethod
    def from_url(cls, url: str) -> _SQLiteBase:
        rest, options = split_options(url, ["table", "retention_seconds"])
        return cls(
            sqlite_path_from_url(rest),
            table=options.get("table", "trove_webhook_claims"),
            retention_seconds=float(options.get("retention_seconds", DEFAULT_RETENTION_SECONDS)),
        )

    # --- one connection per process, one transaction at a time -----------------------------
    # Threads of one process take turns on a Python lock (a quick hand-off) instead of
    # meeting on SQLite's file lock, whose busy handler sleeps for milliseconds at a time.

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                conn = connect_sqlite(self.path)
                if not self.checkpoints_on_commit:
                    conn.execute("PRAGMA wal_autocheckpoint=0")
                for statement in self._schema:
                    conn.execute(statement)
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailableError(f"SQLite store {self.path}: {exc}") from exc
            self._connection = conn
            self._busy_timeout = BUSY_TIMEOUT_MS
        return self._connection

    def _transaction(
        self, works: Sequence[Callable[[sqlite3.Connection], Any]], wait: bool = True
    ) -> list[Any]:
        """Run ``works`` in one write transaction: one commit for all of them.

        ``wait=False`` is the event loop's fast path: it never blocks — if this process's
        connection or the file's write lock is busy it raises ``_Busy`` at once, and the
        caller retries in a worker thread with ``wait=True`` (up to the busy timeout).
        """
        if not self._lock.acquire(blocking=wait):
            raise _Busy
        try:
            conn = self._conn()
            self._set_busy_timeout(conn, BUSY_TIMEOUT_MS if wait else 0)
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not wait and ("locked" in str(exc) or "busy" in str(exc)):
                    raise _Busy from exc
                raise
            return run_in_transaction(conn, works)
        except sqlite3.Error as exc:  # locked past the busy timeout, disk full, file gone
            self._connection = unless_stuck(self._connection)
            raise StoreUnavailableError(f"SQLite store {self.path}: {exc}") from exc
        finally:
            self._lock.release()

    def _set_busy_timeout(self, conn: sqlite3.Connection, milliseconds: int) -> None:
        if self._busy_timeout != milliseconds:
            conn.execute(f"PRAGMA busy_timeout={milliseconds}")
            self._busy_timeout = milliseconds

    # --- the operations, as units of work for a transaction ---------------------------------

    def _claim_work(self, event_id: str, lease_seconds: float) -> Callable[[Any], Claim]:
        token = new_token()
        now = self._clock()

        def work(conn: sqlite3.Connection) -> Claim:
            row = conn.execute(
                self._claim_sql, (event_id, token, now + lease_seconds, now)
            ).fetchone()
            if row is not None:
                return Claim(ClaimStatus.ACQUIRED, token)
            state, expires_at = conn.execute(self._state_sql, (event_id,)).fetchone()
            if state == "done":
                return Claim(ClaimStatus.DONE)
            return Claim(ClaimStatus.IN_FLIGHT, retry_after=expires_at - now)

        return work

    def _complete_work(self, event_id: str, token: str) -> Callable[[Any], None]:
        now = self._clock()

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(self._complete_sql, (event_id, token, now + self.retention_seconds))
            self._writes += 1
            if self._writes % SWEEP_EVERY == 0:
                conn.execute(self._sweep_sql, (now,))

        return work

    def _release_work(self, event_id: str, token: str) -> Callable[[Any], None]:
        return lambda conn: conn.execute(self._release_sql, (event_id, token)) and None

    def _ping(self) -> None:
        with self._lock:
            try:
                self._conn().execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"SQLite store {self.path}: {exc}") from exc

    def _close(self) -> None:
        with self._lock:
            conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()


class SQLiteStore(_SQLiteBase):
    """Sync SQLite store: each operation is its own transaction."""

    def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        result: Claim = self._transaction([self._claim_work(event_id, lease_seconds)])[0]
        return result

    def complete(self, event_id: str, token: str) -> None:
        self._transaction([self._complete_work(event_id, token)])

    def release(self, event_id: str, token: str) -> None:
        self._transaction([self._release_work(event_id, token)])

    def ping(self) -> None:
        self._ping()

    def close(self) -> None:
        self._close()


class AsyncSQLiteStore(_SQLiteBase):
    """Async SQLite store: concurrent operations share one transaction (group commit).

    An uncontended transaction takes microseconds, less than a hop to a worker thread, so a
    batch first runs right on the event loop without waiting for any lock; only when the
    database is busy (another thread or process writing) does it move to a worker thread and
    wait there, never on the loop.
    """

    checkpoints_on_commit: ClassVar[bool] = False

    def __init__(self, path: str, **options: Any) -> None:
        super().__init__(path, **options)
        self._batcher: LoopBatcher[Callable[[Any], Any]] = LoopBatcher(self._commit)
        # Its own threads, not the pool sync handlers run in (see ``_threads``). One at a
        # time takes this process's connection anyway; a second serves ping() meanwhile, a
        # third checkpoints.
        self._threads = StorageThreads("trove-sqlite-store", 3)
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointer: sqlite3.Connection | None = None

    async def _commit(self, works: list[Callable[[Any], Any]]) -> list[Any]:
        try:
            results = self._transaction(works, False)
        except _Busy:
            results = await self._threads.run(self._transaction, works, True)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY_COMMITS == 0:
            self._start_checkpoint()
        return results

    def _start_checkpoint(self) -> None:
        running = self._checkpoint
        # (A task left by an event loop that has ended will never finish: start afresh.)
        if (
            running is not None
            and not running.done()
            and running.get_loop() is asyncio.get_running_loop()
        ):
            return
        self._checkpoint = asyncio.ensure_future(self._threads.run(self._run_checkpoint))

    def _run_checkpoint(self) -> None:
        """Copy the log back into the database, as far as readers allow; never waits for locks
        (PASSIVE), so commits on the loop go on meanwhile."""
        try:
            if self._checkpointer is None:
                self._checkpointer = connect_sqlite(self.path)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            # The next checkpoint tries again; until one succeeds the log only grows longer.
            logger.warning("SQLite store %s: checkpoint failed: %s", self.path, exc)

    async def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        result: Claim = await self._batcher.submit(self._claim_work(event_id, lease_seconds))
        return result

    async def complete(self, event_id: str, token: str) -> None:
        await self._batcher.submit(self._complete_work(event_id, token))

    async def release(self, event_id: str, token: str) -> None:
        await self._batcher.submit(self._release_work(event_id, token))

    async def ping(self) -> None:
        await self._threads.run(self._ping)

    async def aclose(self) -> None:
        checkpoint, self._checkpoint = self._checkpoint, None
        if checkpoint is not None and checkpoint.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await checkpoint
        await self._threads.run(self._close)
        self._threads.shutdown()

    def _close(self) -> None:
        super()._close()
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
