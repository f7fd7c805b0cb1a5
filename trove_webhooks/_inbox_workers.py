"""In-process inbox workers that run whether or not a lifespan starts them.

Queued mode's ``workers=N`` runs a ``WorkerPool`` in the receiver's own process. The rule:

- **A lifespan that reaches the receiver starts and stops them**: ``create_app`` served on its
  own, a FastAPI app that includes ``create_router`` (FastAPI runs an included router's
  lifespan), any app wrapped in ``TroveWebhookMiddleware`` (the middleware sees the lifespan
  messages). They start once the app has started and stop before it shuts down, after
  finishing the events in hand.
- **Otherwise the first request the receiver serves starts them** (a delivery, or its
  ``/healthz``): a ``create_app`` mounted in another app, whose lifespan Starlette never runs.
  ``LoopWorkers`` starts them on the running event loop, so async handlers share the app's loop
  and its clients; concurrent first requests start one pool. They end with that loop: asyncio
  cancels every task when its loop is shut down, and the entries the pool held then are handed
  back — pending and due at once, the interrupted run counted as an attempt — instead of waiting
  out their lease. To have them finish instead, give the parent the receiver's lifespan.
- **WSGI (``Receiver``: Flask, ``create_wsgi_app``)**: there is no event loop of ours and no
  shutdown hook, so ``ThreadWorkers`` runs the same pool on an event loop in a daemon thread,
  started by the first request and stopped — events in hand finished — by ``Receiver.close()``
  or at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import importlib
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.inbox.base import AsyncInbox, InboxEntry, SqlInbox
from trove_webhooks.inbox.worker import WorkerPool
from trove_webhooks.metrics import Metrics
from trove_webhooks.routing import WebhookRouter

__all__ = ["LoopWorkers", "ThreadWorkers"]

logger = logging.getLogger("trove_webhooks.inbox")

HANDED_BACK = "interrupted: the event loop running this worker ended mid-run; handed back"


class _TrackedInbox(AsyncInbox):
    """One pool run's view of the inbox: it remembers which entries its workers hold, so that
    those still held when the loop ends are handed back rather than left to their lease."""

    def __init__(self, inbox: SqlInbox, concurrency: int) -> None:
        super().__init__(inbox)
        self.held: dict[str, str] = {}  # event id → lease token; touched on the loop only
        self._claim_threads = ThreadPoolExecutor(concurrency, "trove-inbox-claim")

    def wake(self) -> None:
        """Wake the idle workers (an enqueue elsewhere: the receiver's inbox, another thread)."""
        for callback in self._listeners:
            callback()

    async def claim(self, *, lease_seconds: float) -> InboxEntry | None:
        # A plain future, not a task: a loop's shutdown cancels every task, and a claim task
        # cancelled mid-flight would still take an entry in its thread and drop the result.
        claimed = asyncio.get_running_loop().run_in_executor(
            self._claim_threads, functools.partial(self.sync.claim, lease_seconds=lease_seconds)
        )
        try:
            entry = await asyncio.shield(claimed)
        except asyncio.CancelledError:
            await asyncio.wait({claimed})
            if not claimed.cancelled() and claimed.exception() is None:
                taken = claimed.result()
                if taken is not None and taken.lease_token is not None:
                    await self._hand_back(taken.event_id, taken.lease_token)
            raise
        if entry is not None and entry.lease_token is not None:
            self.held[entry.event_id] = entry.lease_token
        return entry

    async def complete(self, event_id: str, token: str) -> bool:
        recorded = await super().complete(event_id, token)
        self._let_go(event_id, token)
        return recorded

    async def fail(self, event_id: str, token: str, error: str, *, retry_in: float | None) -> bool:
        recorded = await super().fail(event_id, token, error, retry_in=retry_in)
        self._let_go(event_id, token)
        return recorded

    def _let_go(self, event_id: str, token: str) -> None:
        if self.held.get(event_id) == token:
            del self.held[event_id]

    async def hand_back(self) -> None:
        """Every entry still held back to pending, due now (a no-op for one recorded since:
        the update needs the lease token). Only once the claim loops have ended."""
        for event_id, token in list(self.held.items()):
            await self._hand_back(event_id, token)
            self._let_go(event_id, token)

    async def _hand_back(self, event_id: str, token: str) -> None:
        try:
            await super().fail(event_id, token, HANDED_BACK, retry_in=0)
        except StoreUnavailableError as exc:
            logger.warning(
                "could not hand back %s (it runs again once its lease expires): %s",
                event_id,
                exc.message,
            )

    def release_threads(self) -> None:
        self._claim_threads.shutdown(wait=False)
        self._threads.shutdown()


@dataclass
class _Run:
    """One pool started on one event loop."""

    loop: asyncio.AbstractEventLoop
    pool: WorkerPool
    inbox: _TrackedInbox
    guard: asyncio.Task[None] | None = None


class LoopWorkers:
    """``concurrency`` claim loops on the event loop serving the receiver (see the module
    docstring for when they start and stop)."""

    def __init__(
        self,
        inbox: AsyncInbox,
        router: WebhookRouter,
        *,
        concurrency: int,
        metrics: Metrics,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.inbox = inbox
        self.router = router
        self.concurrency = concurrency
        self.metrics = metrics
        self.options = dict(options or {})
        self._make_pool(inbox)  # bad options fail here, at construction, not at a delivery
        self._run: _Run | None = None
        inbox.on_enqueue(self.wake)

    def _make_pool(self, inbox: AsyncInbox) -> WorkerPool:
        return WorkerPool(
            inbox, self.router, concurrency=self.concurrency, metrics=self.metrics, **self.options
        )

    async def start(self) -> None:
        """Start on the running loop, unless already started on it or on another live loop
        (another thread's: its workers serve this inbox already)."""
        loop = asyncio.get_running_loop()
        run = self._run
        if run is not None and (run.loop is loop or run.loop.is_running()):
            return
        # A previous loop has ended (tests run one per test; TestClient one per request
        # outside ``with``): its tasks ended with it, so start afresh here.
        tracked = _TrackedInbox(self.inbox.sync, self.concurrency)
        # Recorded before anything is awaited: concurrent first requests start one pool.
        self._run = run = _Run(loop, self._make_pool(tracked), tracked)
        await run.pool.start()
        run.guard = loop.create_task(self._hand_back_at_loop_end(run), name="trove-inbox-guard")
        logger.info("inbox workers started: %d claim loop(s)", self.concurrency)

    async def stop(self) -> None:
        """Take no new entries; finish the ones in hand and record them."""
        run, self._run = self._run, None
        if run is None or run.loop is not asyncio.get_running_loop():
            return  # its loop has ended, and its tasks with it (or runs elsewhere)
        await run.pool.stop()
        if run.guard is not None:
            run.guard.cancel()
            await asyncio.wait({run.guard})

    async def enqueue(
        self, verified: Any, body: bytes, headers: Mapping[str, str], *, received_at: float
    ) -> bool:
        """The receiver's enqueue: the first one on a loop starts the workers there."""
        run = self._run
        if run is None or run.loop is not asyncio.get_running_loop():
            await self.start()
        return await self.inbox.enqueue(verified, body, headers, received_at=received_at)

    def wake(self) -> None:
        """After an enqueue: wake the idle workers, if they run on this thread's loop."""
        run = self._run
        if run is None:
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            return
        if run.loop is here:
            run.inbox.wake()

    @staticmethod
    async def _hand_back_at_loop_end(run: _Run) -> None:
        # Cancelled by stop() once the pool has stopped, or — with every other task — when
        # the loop is shut down without a lifespan stopping the pool first. Either way: stop
        # the claim loops, then hand back what they still hold.
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            await run.pool.stop()
            await run.inbox.hand_back()
            run.inbox.release_threads()
            raise


def _uwsgi_without_threads() -> bool:
    """True inside uWSGI started without ``--enable-threads``/``--threads``, where threads an
    app starts may never run."""
    try:
        uwsgi = importlib.import_module("uwsgi")  # exists only inside uWSGI
    except ImportError:
        return False
    options = getattr(uwsgi, "opt", {})
    return not (options.get("enable-threads") or options.get("threads"))


class ThreadWorkers:
    """The sync receiver's in-process workers: ``LoopWorkers`` on an event loop in a daemon
    thread, started by the first request (after a pre-fork server forks) and stopped by
    ``stop()`` — ``Receiver.close()`` — or at interpreter exit.

    Why a thread rather than refusing ``workers`` under WSGI: ``inbox=`` then means the same on
    every adapter — the handlers run, in this process, unless ``workers=0`` — which is what a
    Flask user who copies the queued example expects; and a background thread in a WSGI worker
    process is the well-trodden path (error reporters and tracers ship their events so). The
    one server where such threads do not run, uWSGI without ``--enable-threads``, is reported
    at construction. The inbox is the only thing shared with the request threads, and it is
    thread-safe (the async face already calls it from threads).
    """

    def __init__(
        self,
        inbox: SqlInbox,
        router: WebhookRouter,
        *,
        concurrency: int,
        metrics: Metrics,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.inbox = inbox
        self._workers = LoopWorkers(
            AsyncInbox(inbox), router, concurrency=concurrency, metrics=metrics, options=options
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        if _uwsgi_without_threads():
            logger.warning(
                "uWSGI runs no threads an app starts unless it is given --enable-threads: "
                "without it the in-process inbox workers never run and queued events wait. "
                "Add --enable-threads, or pass workers=0 and run "
                "`trove webhooks worker MODULE:ROUTER --inbox URL`"
            )

    def running(self) -> bool:
        """Whether the thread runs in this process (a fork leaves it behind)."""
        return self._thread is not None and self._pid == os.getpid()

    def start(self) -> None:
        """Start the thread unless it runs."""
        if self.running():
            return
        with self._lock:
            if self.running():
                return
            ready = threading.Event()
            thread = threading.Thread(
                target=self._serve, args=(ready,), name="trove-inbox-workers", daemon=True
            )
            thread.start()
            ready.wait()
            self._thread, self._pid = thread, os.getpid()
        atexit.register(self.stop)

    def stop(self) -> None:
        """Take no new entries; wait for the ones in hand to be finished and recorded."""
        atexit.unregister(self.stop)
        with self._lock:
            thread, self._thread = self._thread, None
            stopping = self._stopping
            mine = self._pid == os.getpid()
        if thread is None or not mine:
            return
        if stopping is not None:
            self._call_in_loop(stopping.set)
        thread.join()

    def enqueue(
        self, verified: Any, body: bytes, headers: Mapping[str, str], *, received_at: float
    ) -> bool:
        """The sync receiver's enqueue: starts the workers, then wakes them for the entry."""
        self.start()
        created = self.inbox.enqueue(verified, body, headers, received_at=received_at)
        if created:
            self._call_in_loop(self._workers.wake)
        return created

    def _call_in_loop(self, callback: Any) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(callback)

    def _serve(self, ready: threading.Event) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            try:
                await self._workers.start()
            finally:
                ready.set()
            try:
                await self._stopping.wait()
            finally:
                await self._workers.stop()

        try:
            asyncio.run(serve())
        except Exception:  # logged, never raised into the thread machinery
            logger.exception("the inbox worker thread failed")
        finally:
            ready.set()
            self._loop = self._stopping = None
