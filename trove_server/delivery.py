"""Webhook delivery: who gets which event, signing and sending it, and retrying (X2, X3, X4).

The queue is the ``deliveries`` table: a ``pending`` row is the next attempt of one event to
one webhook, due at ``due_ms``. ``fanout`` adds a row per subscribed webhook in the same
transaction that appends the event, so an event and its deliveries are committed together and a
crash (even ``kill -9``) loses neither — the worker picks pending rows up again on start.

Each attempt POSTs the stored envelope bytes, signed by ``trove_sdk.sign_webhook`` (two ``v1``
signatures during a secret rotation's grace window), with the D9 headers. Its outcome is
recorded on its row; a failure (non-2xx, timeout, connection error) queues the next attempt per
the retry schedule, later if ``Retry-After`` asks for it; ``410 Gone`` disables the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from trove_sdk import __version__, sign_webhook
from trove_sdk._retry import parse_retry_after
from trove_server import eventtypes
from trove_server.clock import iso, now_ms
from trove_server.db import Database
from trove_server.eventlog import StoredEvent
from trove_server.settings import Settings
from trove_server.tokens import new_delivery_id
from trove_server.webhook_http import DeliveryClient, DeliveryError, DeliveryTimeout

__all__ = [
    "USER_AGENT",
    "AttemptOutcome",
    "DeliveryWorker",
    "delivery_row",
    "fanout",
    "note_outcome",
    "queue_attempt",
    "webhook_secrets",
]

log = logging.getLogger("trove_server.delivery")

USER_AGENT = f"Trove-Webhooks/{__version__}"
_MAX_RETRY_AFTER_S = 86400.0
_ERROR_SNIPPET = 200
# Not fanned out: a test event goes only to the webhook being tested, synchronously.
UNBROADCAST = frozenset({"webhook.test"})


def _wants(webhook: sqlite3.Row, event_type: str, namespace: str | None) -> bool:
    if webhook["namespace"] is not None and webhook["namespace"] != namespace:
        return False
    return eventtypes.matches(json.loads(webhook["events"]), event_type)


def queue_attempt(
    conn: sqlite3.Connection,
    webhook_id: str,
    event_seq: int,
    *,
    due_ms: int,
    try_no: int = 1,
) -> str:
    """Queue the next attempt of an event to a webhook (or bring an already queued one
    forward to ``due_ms``): at most one pending row per pair, besides one being sent.
    Returns its delivery id."""
    pending = conn.execute(
        "SELECT id FROM deliveries WHERE webhook_id = ? AND event_seq = ? AND state = 'pending'",
        (webhook_id, event_seq),
    ).fetchone()
    if pending is not None:
        conn.execute(
            "UPDATE deliveries SET due_ms = MIN(due_ms, ?) WHERE id = ?", (due_ms, pending["id"])
        )
        return str(pending["id"])
    last = conn.execute(
        "SELECT MAX(attempt) FROM deliveries WHERE webhook_id = ? AND event_seq = ?",
        (webhook_id, event_seq),
    ).fetchone()[0]
    delivery_id = new_delivery_id()
    conn.execute(
        "INSERT INTO deliveries (id, webhook_id, event_seq, attempt, try_no, state, due_ms, "
        "created_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        (delivery_id, webhook_id, event_seq, (last or 0) + 1, try_no, due_ms, now_ms()),
    )
    return delivery_id


def fanout(conn: sqlite3.Connection, event: StoredEvent) -> int:
    """Queue the event for every enabled webhook that wants it; returns how many."""
    if event.type in UNBROADCAST:
        return 0
    hooks = conn.execute(
        "SELECT id, events, namespace FROM webhooks WHERE workspace_id = ? AND enabled = 1",
        (event.workspace_id,),
    ).fetchall()
    count = 0
    for hook in hooks:
        if _wants(hook, event.type, event.namespace):
            queue_attempt(conn, hook["id"], event.seq, due_ms=event.created_ms)
            count += 1
    return count


def webhook_secrets(hook: sqlite3.Row | dict[str, Any], now: int) -> list[str]:
    """The secrets that sign now: the current one, plus the previous one during a rotation's
    grace window (newest first)."""
    secrets = [hook["secret"]]
    expires = hook["previous_expires_ms"]
    if hook["previous_secret"] and expires is not None and expires > now:
        secrets.append(hook["previous_secret"])
    return secrets


def delivery_row(row: sqlite3.Row) -> dict[str, Any]:
    """The X2 shape of one attempt (pending rows show when they are due)."""
    pending = row["state"] != "done"
    next_ms = row["due_ms"] if pending else row["next_ms"]
    return {
        "delivery_id": row["id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "attempt": row["attempt"],
        "status": row["status"],
        "ok": bool(row["ok"]),
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "created_at": iso(row["attempted_ms"] or row["created_ms"]),
        "next_attempt_at": iso(next_ms) if next_ms is not None else None,
        "state": row["state"],
    }


@dataclass(frozen=True)
class AttemptOutcome:
    ok: bool
    status: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def gone(self) -> bool:
        return self.status == 410


def note_outcome(
    conn: sqlite3.Connection, webhook_id: str, outcome: AttemptOutcome, now: int
) -> None:
    """The webhook's last-delivery fields (X3), and ``410 Gone`` disables it."""
    conn.execute(
        "UPDATE webhooks SET last_delivery_ms = ?, last_delivery_ok = ?, "
        "last_delivery_status = ?, enabled = CASE WHEN ? THEN 0 ELSE enabled END "
        "WHERE id = ?",
        (now, int(outcome.ok), outcome.status, outcome.gone, webhook_id),
    )


_DUE_QUERY = """
SELECT d.id, d.webhook_id, d.event_seq, d.attempt, d.try_no,
       w.url, w.secret, w.previous_secret, w.previous_expires_ms,
       e.id AS event_id, e.type AS event_type, e.body
FROM deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN events e ON e.seq = d.event_seq
WHERE d.state = 'pending' AND d.due_ms <= ? AND w.enabled = 1
ORDER BY d.due_ms
LIMIT ?
"""


class DeliveryWorker:
    """Sends due deliveries, ``delivery_concurrency`` at a time, until the server stops."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._wakeup = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self.client = DeliveryClient(user_agent=USER_AGENT)

    def wake(self) -> None:
        self._wakeup.set()

    def recover(self) -> int:
        """After a crash: attempts that were in flight are queued again."""
        with self.db.transaction() as conn:
            cursor = conn.execute("UPDATE deliveries SET state = 'pending' WHERE state = 'sending'")
        return cursor.rowcount

    async def run(self) -> None:
        self.recover()
        while not self._stopping:
            self._wakeup.clear()
            try:
                wait = self._dispatch()
            except sqlite3.Error:
                log.exception("delivery worker could not read the queue; retrying")
                wait = 1.0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    def _dispatch(self) -> float:
        """Start what is due; return how long to sleep before the next due row."""
        now = now_ms()
        room = self.settings.delivery_concurrency - len(self._inflight)
        if room > 0:
            rows = [dict(r) for r in self.db.all(_DUE_QUERY, (now, room))]
            if rows:
                with self.db.transaction() as conn:
                    conn.executemany(
                        "UPDATE deliveries SET state = 'sending' WHERE id = ?",
                        [(r["id"],) for r in rows],
                    )
            for row in rows:
                room -= 1
                self._inflight[row["id"]] = asyncio.ensure_future(self._attempt(row))
        if room <= 0:
            return 1.0  # a finishing attempt wakes us
        nxt = self.db.one(
            "SELECT MIN(d.due_ms) AS due FROM deliveries d JOIN webhooks w ON w.id = "
            "d.webhook_id WHERE d.state = 'pending' AND w.enabled = 1 AND d.due_ms > ?",
            (now,),
        )
        if nxt is None or nxt["due"] is None:
            return 60.0
        due: int = nxt["due"]
        return min(60.0, max(0.0, (due - now_ms()) / 1000))

    async def _attempt(self, row: dict[str, Any]) -> None:
        try:
            outcome = await self.send(row, row["body"], row["id"], row["attempt"])
            if not self._stopping:
                self.record(row, outcome)
        except Exception:
            log.exception("delivery %s failed unexpectedly", row["id"])
            # Recorded as a failed attempt (retried on schedule): left 'sending', the row
            # would hold up this event's deliveries until the next restart.
            with contextlib.suppress(Exception):
                self.record(row, AttemptOutcome(False, None, "internal error in the sender", 0))
        finally:
            self._inflight.pop(row["id"], None)
            self.wake()

    async def send(
        self, hook: dict[str, Any], body: str, delivery_id: str, attempt: int
    ) -> AttemptOutcome:
        """One signed POST; never raises for the receiver's failures."""
        raw = body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Trove-Signature": sign_webhook(webhook_secrets(hook, now_ms()), raw),
            "X-Trove-Event": hook["event_type"],
            "X-Trove-Event-Id": hook["event_id"],
            "X-Trove-Delivery": delivery_id,
            "X-Trove-Attempt": str(attempt),
        }
        started = time.monotonic()
        try:
            response = await self.client.post(
                hook["url"], raw, headers, timeout=self.settings.delivery_timeout
            )
        except DeliveryTimeout:
            timeout = self.settings.delivery_timeout
            return AttemptOutcome(False, None, f"timed out after {timeout:g}s", _elapsed(started))
        except DeliveryError as exc:
            return AttemptOutcome(False, None, str(exc)[:_ERROR_SNIPPET], _elapsed(started))
        ok = 200 <= response.status < 300
        error = None
        if not ok:
            snippet = response.body.decode("utf-8", "replace")[:_ERROR_SNIPPET].strip()
            error = f"HTTP {response.status}" + (f": {snippet}" if snippet else "")
        hint = parse_retry_after(response.headers.get("retry-after"))
        return AttemptOutcome(ok, response.status, error, _elapsed(started), hint)

    def record(self, row: dict[str, Any], outcome: AttemptOutcome) -> None:
        """Store an attempt's outcome and queue the retry it calls for."""
        now = now_ms()
        next_ms = None
        if not outcome.ok and not outcome.gone:
            delay = self.retry_delay(row["try_no"], outcome.retry_after)
            if delay is not None:
                next_ms = now + int(delay * 1000)
        with self.db.transaction() as conn:
            # Close this attempt first: queue_attempt keeps one pending row per pair.
            conn.execute(
                "UPDATE deliveries SET state = 'done', attempted_ms = ?, status = ?, ok = ?, "
                "error = ?, duration_ms = ?, next_ms = ? WHERE id = ?",
                (
                    now,
                    outcome.status,
                    int(outcome.ok),
                    outcome.error,
                    outcome.duration_ms,
                    next_ms,
                    row["id"],
                ),
            )
            if next_ms is not None:
                queue_attempt(
                    conn,
                    row["webhook_id"],
                    row["event_seq"],
                    due_ms=next_ms,
                    try_no=row["try_no"] + 1,
                )
            note_outcome(conn, row["webhook_id"], outcome, now)
        if outcome.gone:
            log.warning("webhook %s answered 410 Gone: disabled", row["webhook_id"])

    def retry_delay(self, try_no: int, retry_after: float | None) -> float | None:
        """Seconds until the next try, or None when the schedule is exhausted."""
        schedule = self.settings.retry_schedule
        if try_no > len(schedule):
            return None
        delay = schedule[try_no - 1]
        if retry_after is not None:
            delay = max(delay, min(retry_after, _MAX_RETRY_AFTER_S))
        return delay

    async def close(self) -> None:
        """Stop; attempts in flight are abandoned and queued again for the next start."""
        self._stopping = True
        self.wake()
        for task in list(self._inflight.values()):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        self.recover()
        await self.client.close()


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
