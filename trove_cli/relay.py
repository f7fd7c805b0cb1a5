"""The heart of ``webhooks listen``: forward every event, in order per namespace, until done.

* **Order**: each namespace is a lane that sends one event at a time, in stream order; lanes
  run side by side, at most ``concurrency`` sends at once. An event waiting for a retry holds
  back the later events of its namespace only.
* **Never lose**: a send that got no answer, a 5xx, or a "busy" status is retried with backoff
  until it lands (a receiver restarting under ``--reload`` just delays its lane). Any other
  4xx is the receiver refusing that event on purpose; it is reported and the lane moves on.
* **Resume point**: the *watermark* is the cursor of the newest event such that it and every
  event before it are finished. Only the watermark is saved (``CursorStore``), so a restart
  resumes after work that is truly done — never after an event still being retried.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trove_cli.forwarding import Outcome, backoff

if TYPE_CHECKING:
    from trove_cli.forwarding import Forwarder
    from trove_cli.live import LiveEvent

__all__ = ["Relay", "RelayStats", "Watermark"]


@dataclass
class RelayStats:
    forwarded: int = 0
    failed: int = 0
    retried: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.forwarded + self.failed

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        cuts = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return cuts[max(0, min(98, round(q * 100) - 1))]

    def summary(self) -> str:
        p50 = self.percentile(0.5)
        latency = f"p50 {p50:.0f}ms" if p50 is not None else "p50 -"
        return (
            f"forwarded {self.forwarded}, failed {self.failed}, "
            f"retried {self.retried}, latency {latency}"
        )


class Watermark:
    """Cursors in arrival order; ``finish`` marks one done and returns the new resume cursor
    when the finished prefix grew past an event that has one."""

    def __init__(self) -> None:
        self._next = 0
        self._pending: dict[int, str | None] = {}
        self._finished: set[int] = set()
        self._low = 0
        self.cursor: str | None = None

    def add(self, cursor: str | None) -> int:
        ticket = self._next
        self._next += 1
        self._pending[ticket] = cursor
        return ticket

    def finish(self, ticket: int) -> str | None:
        self._finished.add(ticket)
        advanced = False
        while self._low in self._finished:
            self._finished.discard(self._low)
            cursor = self._pending.pop(self._low)
            if cursor is not None:
                self.cursor = cursor
                advanced = True
            self._low += 1
        return self.cursor if advanced else None

    @property
    def outstanding(self) -> int:
        return len(self._pending)


Report = Callable[["LiveEvent", Outcome, int], None]
RetryReport = Callable[["LiveEvent", Outcome, int, float], None]


class Relay:
    """Takes ``LiveEvent``s in stream order and forwards them (see the module docstring).

    Parameters:
        forwarder: signs and posts one attempt.
        concurrency: sends in flight at once, across namespaces.
        on_result: called once per event with its final outcome and attempt count.
        on_retry: called before each retry wait.
        on_commit: called with each new watermark cursor (to save it).
        max_outstanding: events accepted but not finished before ``submit`` waits.
    """

    def __init__(
        self,
        forwarder: Forwarder,
        *,
        concurrency: int = 4,
        on_result: Report,
        on_retry: RetryReport,
        on_commit: Callable[[str], None],
        max_outstanding: int = 1000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.forwarder = forwarder
        self.stats = RelayStats()
        self.watermark = Watermark()
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes: dict[str | None, deque[tuple[int, LiveEvent]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Condition()
        self._max_outstanding = max_outstanding
        self._on_result = on_result
        self._on_retry = on_retry
        self._on_commit = on_commit
        self._sleep = sleep
        self.failure: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.progress = asyncio.Event()

    async def submit(self, item: LiveEvent) -> None:
        """Queue ``item`` behind earlier events of its namespace; waits while too many are
        unfinished (a receiver that is down pauses the stream rather than filling memory)."""
        async with self._room:
            await self._room.wait_for(lambda: self.watermark.outstanding < self._max_outstanding)
        ticket = self.watermark.add(item.cursor)
        lane_key = item.event.namespace
        lane = self._lanes.get(lane_key)
        if lane is None:
            lane = self._lanes[lane_key] = deque()
            task = asyncio.create_task(self._drain(lane_key, lane))
            self._tasks.add(task)
            task.add_done_callback(self._lane_done)
        lane.append((ticket, item))

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not self.failure.done():
            self.failure.set_exception(task.exception())  # type: ignore[arg-type]

    async def _drain(self, key: str | None, lane: deque[tuple[int, LiveEvent]]) -> None:
        while lane:
            ticket, item = lane[0]
            await self._deliver(item)
            lane.popleft()
            commit = self.watermark.finish(ticket)
            if commit is not None:
                self._on_commit(commit)
            async with self._room:
                self._room.notify_all()
            self.progress.set()
        del self._lanes[key]

    async def _deliver(self, item: LiveEvent) -> None:
        body = item.payload.encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            async with self._slots:
                outcome = await self.forwarder.send(body, item.event.type, item.event.id, attempt)
            if outcome.ok:
                self.stats.forwarded += 1
                self.stats.latencies_ms.append(outcome.latency_ms)
                self._on_result(item, outcome, attempt)
                return
            if not outcome.retryable:
                self.stats.failed += 1
                self._on_result(item, outcome, attempt)
                return
            self.stats.retried += 1
            delay = backoff(attempt, outcome.retry_after)
            self._on_retry(item, outcome, attempt, delay)
            await self._sleep(delay)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
