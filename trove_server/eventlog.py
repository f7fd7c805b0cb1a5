"""The event log: emit (through the ``trove_sdk`` catalogue), read pages, wait for news.

Every mutation calls ``EventLog.emit``. In one transaction the event is appended with the
next ``seq`` and a delivery is queued for each webhook that wants it; then stream readers and
the delivery worker are woken. The stored ``body`` is the exact JSON that the stream sends
and that deliveries sign, so every reader sees byte-identical envelopes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trove_sdk import API_VERSION, EVENT_TYPES, parse_event
from trove_sdk._samples import new_event_id
from trove_server import eventtypes
from trove_server.clock import iso, now_ms
from trove_server.db import Database

__all__ = ["EventBus", "EventLog", "NewEvent", "StoredEvent", "append", "feed_row"]

# JSON may hold U+2028, U+2029 and U+0085 unescaped, but ``str.splitlines`` ends a line at each,
# and SSE readers built on it (trove-sdk 0.7.6's ``webhooks listen``, httpx's ``iter_lines``)
# then cut the ``data:`` line in two: 0.7.6 silently dropped such an event (a file name or an
# exec's stdout holding one), and ``trove webhooks listen`` stopped on it — again at every
# restart, since it resumes there. Escaped, the JSON means the same and is one line for all.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


@dataclass(frozen=True)
class NewEvent:
    """An event about to be emitted."""

    type: str
    data: Mapping[str, Any]
    namespace: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    id: str
    workspace_id: str
    namespace: str | None
    type: str
    created_ms: int
    body: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredEvent:
        return cls(
            seq=row["seq"],
            id=row["id"],
            workspace_id=row["workspace_id"],
            namespace=row["namespace"],
            type=row["type"],
            created_ms=row["created_ms"],
            body=row["body"],
        )


def _envelope(workspace_id: str, event: NewEvent, created_ms: int) -> tuple[str, str]:
    if event.type not in EVENT_TYPES:
        raise ValueError(f"{event.type!r} is not in the trove_sdk event catalogue")
    event_id = new_event_id()
    envelope = {
        "id": event_id,
        "type": event.type,
        "api_version": API_VERSION,
        "workspace_id": workspace_id,
        "namespace": event.namespace,
        "created_at": iso(created_ms),
        "data": dict(event.data),
    }
    # The catalogue is the contract: an envelope our own SDK cannot parse is a server bug,
    # caught here rather than in a receiver.
    parse_event(envelope)
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    return event_id, body.translate(_LINE_BREAKS)


def append(conn: sqlite3.Connection, workspace_id: str, event: NewEvent) -> StoredEvent:
    """Insert one event (inside the caller's transaction)."""
    created = now_ms()
    event_id, body = _envelope(workspace_id, event, created)
    cursor = conn.execute(
        "INSERT INTO events (id, workspace_id, namespace, type, created_ms, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, workspace_id, event.namespace, event.type, created, body),
    )
    assert cursor.lastrowid is not None
    return StoredEvent(
        cursor.lastrowid, event_id, workspace_id, event.namespace, event.type, created, body
    )


def feed_row(body: str) -> dict[str, Any]:
    """A feed row: the envelope plus ``event_id`` (D2: both names, same value)."""
    row: dict[str, Any] = json.loads(body)
    row["event_id"] = row["id"]
    return row


class EventBus:
    """Wakes stream readers when their workspace gets an event.

    A reader takes ``waiter(ws)`` *before* it queries, then waits on it: an event committed
    between the query and the wait has already set the waiter, so nothing is missed.
    """

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Event] = {}
        self.closed = asyncio.Event()

    def waiter(self, workspace_id: str) -> asyncio.Event:
        event = self._waiters.get(workspace_id)
        if event is None:
            event = self._waiters[workspace_id] = asyncio.Event()
        return event

    def publish(self, workspace_id: str) -> None:
        event = self._waiters.pop(workspace_id, None)
        if event is not None:
            event.set()

    def close(self) -> None:
        """Wake every reader for good (server shutdown)."""
        self.closed.set()
        for event in self._waiters.values():
            event.set()
        self._waiters.clear()


Fanout = Callable[[sqlite3.Connection, StoredEvent], int]


class EventLog:
    """Emits events and answers the feed and stream queries."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        fanout: Fanout,
        on_queued: Callable[[], None],
    ) -> None:
        self.db = db
        self.bus = bus
        self._fanout = fanout
        self._on_queued = on_queued

    def emit(
        self,
        workspace_id: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        namespace: str | None = None,
    ) -> StoredEvent:
        return self.emit_many(workspace_id, [NewEvent(event_type, data, namespace)])[0]

    def emit_many(self, workspace_id: str, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append events in order, queue their deliveries, wake readers — one commit."""
        if not events:
            return []
        queued = 0
        with self.db.transaction() as conn:
            stored = [append(conn, workspace_id, e) for e in events]
            for event in stored:
                queued += self._fanout(conn, event)
        self.bus.publish(workspace_id)
        if queued:
            self._on_queued()
        return stored

    # --- reading -------------------------------------------------------------------------

    def newest_seq(self) -> int:
        """The highest seq ever assigned (pruned rows included), 0 for an empty log."""
        row = self.db.one("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(row["seq"]) if row is not None else 0

    def page(
        self,
        workspace_id: str,
        *,
        since_ms: int | None,
        types: tuple[str, ...],
        namespace: str | None,
        before_seq: int | None,
        limit: int,
    ) -> tuple[list[StoredEvent], int | None]:
        """Newest first; returns the rows and the cursor for the next (older) page."""
        where, params = self._filters(workspace_id, types, namespace)
        if since_ms is not None:
            where.append("created_ms > ?")
            params.append(since_ms)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        rows = self.db.all(
            # The WHERE clause joins fixed fragments; every value is a bound parameter.
            f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",  # noqa: S608
            (*params, limit + 1),
        )
        events = [StoredEvent.from_row(r) for r in rows[:limit]]
        more = len(rows) > limit
        return events, (events[-1].seq if more and events else None)

    def after(
        self,
        workspace_id: str,
        after_seq: int,
        *,
        types: tuple[str, ...],
        namespace: str | None,
        limit: int = 500,
    ) -> list[StoredEvent]:
        """Oldest first, strictly after ``after_seq`` (the stream's resume rule)."""
        where, params = self._filters(workspace_id, types, namespace)
        where.append("seq > ?")
        params.append(after_seq)
        rows = self.db.all(
            f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq ASC LIMIT ?",  # noqa: S608
            (*params, limit),
        )
        return [StoredEvent.from_row(r) for r in rows]

    @staticmethod
    def _filters(
        workspace_id: str, types: tuple[str, ...], namespace: str | None
    ) -> tuple[list[str], list[Any]]:
        where = ["workspace_id = ?"]
        params: list[Any] = [workspace_id]
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        clause, clause_params = eventtypes.sql_clause(types)
        where.append(clause)
        params.extend(clause_params)
        return where, params

    def prune(self, older_than_ms: int) -> int:
        """Drop events older than the retention (their deliveries are long settled)."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM events WHERE created_ms < ? AND seq NOT IN "
                "(SELECT event_seq FROM deliveries WHERE state != 'done')",
                (older_than_ms,),
            )
        return cursor.rowcount
