"""The durable inbox: verified deliveries stored first, handled later by workers.

Life of an entry::

    pending ──claim──► running ──complete──► done
       ▲                  │
       └──fail (backoff)──┤──fail, attempts exhausted──► dead ──retry──► pending
                          └──lease expires (worker killed)──► claimable again

One SQL implementation serves SQLite (one host) and PostgreSQL (many hosts, ``FOR UPDATE SKIP
LOCKED``); a backend supplies its connection handling, its dialect and its migrations. Lease
ends and due times come from one clock: this host's on SQLite, the database's on PostgreSQL
(hosts whose clocks disagree must still agree on whose lease has run out). The
async face used by the ASGI app and the workers (``AsyncInbox``) runs the same sync methods in
worker threads, so each statement exists once.
"""

# Table names are checked by safe_identifier() before they reach statement text.
# ruff: noqa: S608

from __future__ import annotations

import enum
import json
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from trove_webhooks._threads import StorageThreads
from trove_webhooks._urls import safe_identifier
from trove_webhooks.stores.base import DEFAULT_RETENTION_SECONDS

__all__ = [
    "AsyncInbox",
    "EntryStatus",
    "InboxEntry",
    "SqlInbox",
    "backoff_seconds",
    "purge_age_problem",
]

T = TypeVar("T")


class EntryStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class InboxEntry:
    """One stored delivery. ``body`` is the exact signed bytes, verified on the way in."""

    event_id: str
    event_type: str
    namespace: str | None
    created_at: str
    status: EntryStatus
    attempts: int
    received_at: float
    run_at: float
    signed_at: int
    secret_index: int
    lease_token: str | None = None
    last_error: str | None = None
    completed_at: float | None = None
    body: bytes | None = None
    headers: Mapping[str, str] | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready fields (no body) for ``trove webhooks inbox list/show --json``."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "namespace": self.namespace,
            "created_at": self.created_at,
            "status": self.status.value,
            "attempts": self.attempts,
            "received_at": self.received_at,
            "run_at": self.run_at,
            "completed_at": self.completed_at,
            "last_error": self.last_error,
        }


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


# Stands in a statement's parameters for "now" (``{now}`` in its text); see ``SqlInbox._bind``.
_NOW = object()


def purge_age_problem(older_than_seconds: float) -> str | None:
    """Why purging entries younger than this would reopen dedupe; ``None`` when it would not.

    A done (or dead) entry is how queued mode recognises a duplicate, so it must be kept as
    long as an inline store keeps its record (``DEFAULT_RETENTION_SECONDS``): past the
    signature window, so a captured delivery cannot be replayed, and past the sender's
    retries, so a late retry of an acknowledged event is not handled twice.
    """
    if older_than_seconds >= DEFAULT_RETENTION_SECONDS:
        return None
    return (
        f"entries younger than {DEFAULT_RETENTION_SECONDS / 86400:g} days are how the inbox "
        "recognises duplicates: once purged, a replay of the delivery (inside the signature "
        "window) or a late retry by the sender would be queued and handled again (the inline "
        "stores keep their records as long for the same reason)"
    )


_COLUMNS = (
    "event_id, event_type, namespace, created_at, status, attempts, received_at, run_at, "
    "signed_at, secret_index, lease_token, last_error, completed_at"
)


class SqlInbox:
    """Statements and row handling shared by the SQLite and PostgreSQL inboxes.

    Subclasses provide ``_execute(work)`` (a transaction), the placeholder style, the column
    types, ``claim_lock`` (``FOR UPDATE SKIP LOCKED`` or nothing) and ``now_sql``: the
    database's clock as epoch seconds, or ``None`` to read this host's clock (``_clock``).
    """

    shared_across_hosts: ClassVar[bool] = False
    placeholder: ClassVar[str] = "?"
    blob_type: ClassVar[str] = "BLOB"
    real_type: ClassVar[str] = "REAL"
    seq_column: ClassVar[str] = "seq INTEGER PRIMARY KEY AUTOINCREMENT"
    claim_lock: ClassVar[str] = ""
    now_sql: ClassVar[str | None] = None

    def __init__(self, *, table: str = "trove_webhook_inbox", ordered: bool = False) -> None:
        self.table = safe_identifier(table, "table")
        self.ordered = ordered
        self._clock: Callable[[], float] = time.time  # read only where now_sql is None

    # --- statements -------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        now = self.now_sql or "%s"
        return text.replace("{now}", now).replace("%s", self.placeholder).replace("{t}", self.table)

    def _bind(self, *params: Any) -> tuple[Any, ...]:
        """Parameters for a statement from ``_sql``: each ``_NOW`` is this host's clock (read
        once per statement), or dropped where the database reads its own."""
        if self.now_sql is not None:
            return tuple(p for p in params if p is not _NOW)
        now = self._clock()
        return tuple(now if p is _NOW else p for p in params)

    def migrations(self) -> Sequence[Sequence[str]]:
        """Schema versions in order; version N is ``migrations()[N - 1]``."""
        t, real, blob = self.table, self.real_type, self.blob_type
        index = t.replace(".", "_")
        return [
            [
                f"CREATE TABLE IF NOT EXISTS {t} ({self.seq_column}, "
                "event_id TEXT NOT NULL UNIQUE, event_type TEXT NOT NULL, namespace TEXT, "
                "ns_key TEXT NOT NULL, created_at TEXT NOT NULL, "
                "status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, "
                f"received_at {real} NOT NULL, run_at {real} NOT NULL, "
                "signed_at BIGINT NOT NULL, secret_index INTEGER NOT NULL, "
                f"body {blob} NOT NULL, headers TEXT NOT NULL, lease_token TEXT, "
                f"lease_until {real}, last_error TEXT, completed_at {real})",
                # Only unfinished rows are ever claimed: a partial index keeps claims fast
                # however many done rows the table holds.
                f"CREATE INDEX IF NOT EXISTS {index}_due ON {t} (run_at, seq) "
                "WHERE status IN ('pending', 'running')",
                f"CREATE INDEX IF NOT EXISTS {index}_ns ON {t} (ns_key, created_at, seq)",
            ],
        ]

    def _claim_sql(self) -> str:
        # A running row's run_at is its lease end, so one range covers both "due" and "its
        # worker died": pending and due, or running with the lease run out.
        due = "c.status IN ('pending', 'running') AND c.run_at <= {now}"
        head = ""
        order = "c.run_at, c.seq"
        if self.ordered:
            # Only the oldest unfinished event of its namespace may run: a later one waits
            # while an earlier one is pending (even in backoff) or running.
            head = (
                " AND NOT EXISTS (SELECT 1 FROM {t} o WHERE o.ns_key = c.ns_key "
                "AND o.status IN ('pending', 'running') "
                "AND (o.created_at < c.created_at OR (o.created_at = c.created_at "
                "AND o.seq < c.seq)))"
            )
            order = "c.created_at, c.seq"
        return self._sql(
            "UPDATE {t} SET status = 'running', attempts = attempts + 1, "
            "lease_until = {now} + %s, run_at = {now} + %s, lease_token = %s WHERE event_id = "
            f"(SELECT c.event_id FROM {{t}} c WHERE {due}{head} "
            f"ORDER BY {order} LIMIT 1{self.claim_lock}) "
            f"RETURNING {_COLUMNS}, body, headers"
        )

    # --- rows -------------------------------------------------------------------------------

    @staticmethod
    def _entry(row: Sequence[Any], with_body: bool = False) -> InboxEntry:
        body = headers = None
        if with_body:
            body = bytes(row[13])
            headers = json.loads(row[14])
        return InboxEntry(
            event_id=row[0],
            event_type=row[1],
            namespace=row[2],
            created_at=row[3],
            status=EntryStatus(row[4]),
            attempts=int(row[5]),
            received_at=float(row[6]),
            run_at=float(row[7]),
            signed_at=int(row[8]),
            secret_index=int(row[9]),
            lease_token=row[10],
            last_error=row[11],
            completed_at=None if row[12] is None else float(row[12]),
            body=body,
            headers=headers,
        )

    # --- the operations (sync; AsyncInbox runs them in threads) -----------------------------

    def _execute(self, work: Callable[[Any], T]) -> T:
        """Run ``work(cursor)``; it issues exactly one statement, atomic on its own."""
        raise NotImplementedError

    def enqueue(
        self, verified: Any, body: bytes, headers: Mapping[str, str], *, received_at: float
    ) -> bool:
        """Store a verified delivery; ``False`` when the event id is already in the inbox."""
        event = verified.event
        sql = self._sql(
            "INSERT INTO {t} (event_id, event_type, namespace, ns_key, created_at, received_at, "
            "run_at, signed_at, secret_index, body, headers) "
            "VALUES (%s, %s, %s, %s, %s, %s, {now}, %s, %s, %s, %s) "
            "ON CONFLICT (event_id) DO NOTHING"
        )
        kept = {k: v for k, v in headers.items() if k.startswith("x-trove-") or k == "user-agent"}
        params = self._bind(
            event.id,
            event.type,
            event.namespace,
            event.namespace or "",
            event.created_at,
            received_at,
            _NOW,
            verified.timestamp,
            verified.secret_index,
            body,
            json.dumps(kept),
        )
        return bool(self._execute(lambda cur: cur.execute(sql, params).rowcount == 1))

    def claim(self, *, lease_seconds: float) -> InboxEntry | None:
        """Take the next due entry (or one whose worker died) for ``lease_seconds``."""
        sql = self._claim_sql()
        token = secrets.token_hex(8)

        def work(cur: Any) -> InboxEntry | None:
            params = self._bind(_NOW, lease_seconds, _NOW, lease_seconds, token, _NOW)
            row = cur.execute(sql, params).fetchone()
            return None if row is None else self._entry(row, with_body=True)

        return self._execute(work)

    def complete(self, event_id: str, token: str) -> bool:
        """Mark done; ``False`` when the lease was lost (another worker owns the entry now)."""
        sql = self._sql(
            "UPDATE {t} SET status = 'done', completed_at = {now}, lease_until = NULL, "
            "lease_token = NULL WHERE event_id = %s AND lease_token = %s AND status = 'running'"
        )
        params = self._bind(_NOW, event_id, token)
        return bool(self._execute(lambda cur: cur.execute(sql, params).rowcount == 1))

    def fail(self, event_id: str, token: str, error: str, *, retry_in: float | None) -> bool:
        """Record a failure: back to pending after ``retry_in`` seconds, or dead when None."""
        status = "dead" if retry_in is None else "pending"
        sql = self._sql(
            "UPDATE {t} SET status = %s, run_at = {now} + %s, last_error = %s, "
            "lease_until = NULL, lease_token = NULL "
            "WHERE event_id = %s AND lease_token = %s AND status = 'running'"
        )
        params = self._bind(status, _NOW, retry_in or 0.0, error, event_id, token)
        return bool(self._execute(lambda cur: cur.execute(sql, params).rowcount == 1))

    def stats(self) -> dict[str, int]:
        """Entries by status (every status present, zero included)."""
        sql = self._sql("SELECT status, COUNT(*) FROM {t} GROUP BY status")
        counts = dict.fromkeys((s.value for s in EntryStatus), 0)
        for status, count in self._execute(lambda cur: cur.execute(sql).fetchall()):
            counts[status] = int(count)
        return counts

    def list(self, *, status: str | None = None, limit: int = 50) -> list[InboxEntry]:
        """Newest first, optionally of one status."""
        where = "WHERE status = %s " if status else ""
        sql = self._sql(f"SELECT {_COLUMNS} FROM {{t}} {where}ORDER BY seq DESC LIMIT %s")
        params: tuple[Any, ...] = (status, limit) if status else (limit,)
        rows = self._execute(lambda cur: cur.execute(sql, params).fetchall())
        return [self._entry(r) for r in rows]

    def get(self, event_id: str) -> InboxEntry | None:
        sql = self._sql(f"SELECT {_COLUMNS}, body, headers FROM {{t}} WHERE event_id = %s")
        row = self._execute(lambda cur: cur.execute(sql, (event_id,)).fetchone())
        return None if row is None else self._entry(row, with_body=True)

    def retry(self, event_id: str) -> bool:
        """Send a dead (or done) entry round again, with a fresh attempt count."""
        sql = self._sql(
            "UPDATE {t} SET status = 'pending', attempts = 0, run_at = {now} "
            "WHERE event_id = %s AND status IN ('dead', 'done')"
        )
        params = self._bind(_NOW, event_id)
        return bool(self._execute(lambda cur: cur.execute(sql, params).rowcount == 1))

    def retry_dead(self) -> int:
        sql = self._sql(
            "UPDATE {t} SET status = 'pending', attempts = 0, run_at = {now} WHERE status = 'dead'"
        )
        params = self._bind(_NOW)
        return int(self._execute(lambda cur: cur.execute(sql, params).rowcount))

    def purge(
        self, *, older_than_seconds: float, include_dead: bool = False, force: bool = False
    ) -> int:
        """Delete done (and optionally dead) entries received longer ago than given.

        Raises ``ValueError`` for an age under the dedupe retention (3 days; see
        ``purge_age_problem``) unless ``force``.
        """
        problem = purge_age_problem(older_than_seconds)
        if problem and not force:
            raise ValueError(f"refusing to purge: {problem}; pass force=True to purge anyway")
        statuses = "('done', 'dead')" if include_dead else "('done')"
        sql = self._sql(
            f"DELETE FROM {{t}} WHERE status IN {statuses} AND received_at < {{now}} - %s"
        )
        params = self._bind(_NOW, older_than_seconds)
        return int(self._execute(lambda cur: cur.execute(sql, params).rowcount))

    def ping(self) -> None:
        self._execute(lambda cur: cur.execute("SELECT 1").fetchone())

    def close(self) -> None:
        raise NotImplementedError


class AsyncInbox:
    """The async face of any ``SqlInbox``: each call runs in one of the inbox's own threads
    (never the shared pool slow sync handlers may fill; see ``_threads``).

    Also wakes in-process workers as soon as something is enqueued, so they need not poll.
    """

    def __init__(self, inbox: SqlInbox) -> None:
        self.sync = inbox
        self._listeners: list[Callable[[], None]] = []
        # As many as a PostgreSQL pool's default connections; SQLite serialises them anyway.
        self._threads = StorageThreads("trove-inbox", 10)

    def on_enqueue(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    async def enqueue(
        self, verified: Any, body: bytes, headers: Mapping[str, str], *, received_at: float
    ) -> bool:
        created = await self._threads.run(
            lambda: self.sync.enqueue(verified, body, headers, received_at=received_at)
        )
        if created:
            for callback in self._listeners:
                callback()
        return created

    async def claim(self, *, lease_seconds: float) -> InboxEntry | None:
        return await self._threads.run(lambda: self.sync.claim(lease_seconds=lease_seconds))

    async def complete(self, event_id: str, token: str) -> bool:
        return await self._threads.run(self.sync.complete, event_id, token)

    async def fail(self, event_id: str, token: str, error: str, *, retry_in: float | None) -> bool:
        return await self._threads.run(
            lambda: self.sync.fail(event_id, token, error, retry_in=retry_in)
        )

    async def stats(self) -> dict[str, int]:
        return await self._threads.run(self.sync.stats)

    async def ping(self) -> None:
        await self._threads.run(self.sync.ping)

    async def aclose(self) -> None:
        await self._threads.run(self.sync.close)
        self._threads.shutdown()
