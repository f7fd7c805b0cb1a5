"""Workers: claim due inbox entries, run the handlers, record done / retry / dead.

``WorkerPool`` runs ``concurrency`` claim loops as asyncio tasks — inside the receiver app
(``create_app(..., inbox=..., workers=N)``) or in a process of its own (``run_worker``, behind
``trove webhooks worker``). A claim is a lease: a worker killed mid-handler simply stops
renewing nothing, its lease runs out, and another worker takes the entry (the handler then runs
again — handlers see ``context.attempt`` and ``event.id`` to make side effects idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
import traceback
from datetime import datetime, timezone
from typing import Any

from trove_sdk import EventParseError, parse_event
from trove_webhooks.context import DeliveryContext
from trove_webhooks.dispatch import adispatch
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.inbox.base import AsyncInbox, InboxEntry, backoff_seconds
from trove_webhooks.metrics import Metrics
from trove_webhooks.routing import WebhookRouter

__all__ = ["WorkerPool", "run_worker"]

logger = logging.getLogger("trove_webhooks.inbox")

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_SECONDS = 30.0
# A lease must outlast the handler's timeout, or a slow but healthy run would be taken over.
LEASE_MARGIN_SECONDS = 30.0
RECORD_RETRIES = 8


def describe_failure(error: BaseException) -> str:
    """Every handler's exception with its traceback, for ``last_error``."""
    from trove_webhooks.errors import HandlerError

    if isinstance(error, HandlerError):
        parts = []
        for name, exc in error.errors:
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            parts.append(f"handler {name} failed:\n{trace}")
        return "\n".join(parts)
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


class WorkerPool:
    """Claim loops over one inbox.

    Parameters:
        inbox: the async inbox (``open_inbox(url)``).
        router: the handlers.
        concurrency: claim loops (events handled at once) in this process.
        max_attempts: runs before an event is dead-lettered with its last error.
        timeout_seconds: a run longer than this is cut off and counted as a failure; the
            ``on_error`` handlers hear of it (and get as long again). A sync handler's thread
            cannot be stopped: it is abandoned and finishes in the background.
        lease_seconds: how long a claim lasts (default: the timeout plus 30 s).
        backoff_seconds: first retry delay; doubles per attempt (with jitter) up to
            ``max_backoff_seconds``.
        poll_seconds: how often an idle loop looks for new work (enqueues in this process
            wake it at once).
    """

    def __init__(
        self,
        inbox: AsyncInbox,
        router: WebhookRouter,
        *,
        concurrency: int = 1,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        lease_seconds: float | None = None,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 300.0,
        poll_seconds: float = 0.5,
        metrics: Metrics | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.inbox = inbox
        self.router = router
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self.lease_seconds = lease_seconds or timeout_seconds + LEASE_MARGIN_SECONDS
        if self.lease_seconds <= timeout_seconds:
            raise ValueError("lease_seconds must be longer than timeout_seconds")
        self.backoff = (backoff_seconds, max_backoff_seconds)
        self.poll_seconds = poll_seconds
        self.metrics = metrics or Metrics()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._wakeup: asyncio.Event | None = None

    async def start(self) -> None:
        self._stopping = False
        self._wakeup = asyncio.Event()
        self.inbox.on_enqueue(self._wakeup.set)
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"trove-inbox-worker-{i}")
            for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        """Take no new entries; wait for the ones being handled to finish and be recorded."""
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _idle(self, seconds: float) -> None:
        assert self._wakeup is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()

    async def _loop(self) -> None:
        unavailable = 0
        while not self._stopping:
            try:
                entry = await self.inbox.claim(lease_seconds=self.lease_seconds)
            except StoreUnavailableError as exc:
                unavailable += 1
                logger.warning("inbox unavailable: %s", exc.message)
                await self._idle(min(5.0, 0.2 * 2**unavailable))
                continue
            unavailable = 0
            if entry is None:
                await self._idle(self.poll_seconds)
                continue
            try:
                await self.process(entry)
            except Exception:  # a bug here must not kill the loop; the lease will expire
                logger.exception("could not process inbox entry %s", entry.event_id)

    async def process(self, entry: InboxEntry) -> None:
        """Run the handlers for one claimed entry and record the result."""
        assert entry.body is not None and entry.lease_token is not None
        headers = dict(entry.headers or {})
        try:
            event = parse_event(json.loads(entry.body))  # verified when it was enqueued
        except (ValueError, EventParseError) as exc:
            # Stored by a receiver whose catalogue differs from this worker's (a rolling
            # upgrade): a failure like any other, retried and in the end dead-lettered, not
            # an entry re-claimed after every lease for ever.
            unparsable = f"the stored event does not parse here: {exc}"
            logger.error("inbox entry %s: %s", entry.event_id, unparsable)
            await self._record_failure(entry, entry.event_type, unparsable)
            return
        context = DeliveryContext(
            event_id=entry.event_id,
            attempt=entry.attempts,
            received_at=datetime.fromtimestamp(entry.received_at, timezone.utc),
            signed_at=entry.signed_at,
            secret_index=entry.secret_index,
            delivery_id=headers.get("x-trove-delivery"),
            headers=headers,
            queued=True,
        )
        started = time.perf_counter()
        # A handler still running at the timeout is a failure like any other (on_error hears
        # of it); a sync one's thread cannot be stopped and is left to finish unobserved.
        result = await adispatch(self.router, event, context, timeout=self.timeout_seconds)
        self.metrics.observe_handlers(event.type, time.perf_counter() - started)
        error = None if result.error is None else describe_failure(result.error)
        if error is None:
            await self._record(self.inbox.complete, entry.event_id, entry.lease_token)
            self.metrics.inbox_outcome("done", event.type)
            return
        await self._record_failure(entry, event.type, error)

    async def _record_failure(self, entry: InboxEntry, event_type: str, error: str) -> None:
        """Back to pending after a backoff, or dead once ``max_attempts`` runs have failed."""
        retry_in: float | None = None
        if entry.attempts < self.max_attempts:
            retry_in = backoff_seconds(entry.attempts, *self.backoff)
        outcome = "retry" if retry_in is not None else "dead"
        await self._record(
            self.inbox.fail, entry.event_id, entry.lease_token, error, retry_in=retry_in
        )
        self.metrics.inbox_outcome(outcome, event_type)

    async def _record(self, method: Any, *args: Any, **kwargs: Any) -> None:
        """Write the result, retrying through a short outage; give up to the lease after that."""
        for attempt in range(RECORD_RETRIES):
            try:
                if not await method(*args, **kwargs):
                    logger.warning("lease on %s was lost before its result was recorded", args[0])
                return
            except StoreUnavailableError as exc:
                logger.warning("could not record %s yet: %s", args[0], exc.message)
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
        logger.error("gave up recording %s; it will run again after its lease", args[0])


async def run_worker(
    router: WebhookRouter, inbox_url: str, *, concurrency: int = 1, **options: Any
) -> None:
    """A worker process: run until SIGTERM or SIGINT, then finish what is in hand."""
    from trove_webhooks.inbox import open_inbox

    inbox = open_inbox(inbox_url)
    pool = WorkerPool(inbox, router, concurrency=concurrency, **options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await pool.start()
    logger.info("worker started: %d claim loop(s)", concurrency)
    try:
        await stop.wait()
    finally:
        logger.info("worker stopping: finishing the events in hand")
        await pool.stop()
        await inbox.aclose()
