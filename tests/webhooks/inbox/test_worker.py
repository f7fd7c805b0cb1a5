"""``WorkerPool``: handlers run from the inbox with retries, timeouts, dead-lettering, order."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.webhooks.conftest import SECRET
from trove_sdk import WebhookVerifier
from trove_webhooks import DeliveryContext, HandlerError, WebhookRouter
from trove_webhooks.inbox import AsyncInbox, EntryStatus, open_inbox
from trove_webhooks.inbox.worker import WorkerPool
from trove_webhooks.testing import signed_delivery

FAST = {"backoff_seconds": 0.02, "max_backoff_seconds": 0.05, "poll_seconds": 0.02}


@pytest.fixture
async def inbox(inbox_url: str) -> AsyncIterator[AsyncInbox]:
    box = open_inbox(inbox_url)
    yield box
    await box.aclose()


async def put(inbox: AsyncInbox, event_type: str = "file.written", **kwargs: Any) -> str:
    delivery = signed_delivery(event_type, secret=SECRET, **kwargs)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    await inbox.enqueue(verified, delivery.body, headers, received_at=time.time())
    return delivery.event_id


async def drain(inbox: AsyncInbox, router: WebhookRouter, until: Any, **options: Any) -> WorkerPool:
    pool = WorkerPool(inbox, router, **{**FAST, **options})
    await pool.start()
    deadline = time.monotonic() + 20
    while not until(await inbox.stats()):
        assert time.monotonic() < deadline, await inbox.stats()
        await asyncio.sleep(0.02)
    await pool.stop()
    return pool


async def test_a_queued_event_is_handled_with_a_queued_context(inbox: AsyncInbox) -> None:
    router = WebhookRouter()
    seen: list[DeliveryContext] = []
    router.on("file.written", lambda event, ctx: seen.append(ctx))
    event_id = await put(inbox, attempt=3)
    await drain(inbox, router, lambda s: s["done"] == 1)
    assert seen[0].event_id == event_id
    assert seen[0].queued is True
    assert seen[0].attempt == 1  # the inbox's own count, not the sender's header
    assert seen[0].headers["x-trove-attempt"] == "3"


async def test_a_failing_handler_is_retried_with_a_growing_attempt_number(
    inbox: AsyncInbox,
) -> None:
    router = WebhookRouter()
    attempts: list[int] = []

    @router.on("file.written")
    async def flaky(event: Any, ctx: DeliveryContext) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError("downstream not ready")

    await put(inbox)
    await drain(inbox, router, lambda s: s["done"] == 1)
    assert attempts == [1, 2, 3]


async def test_after_max_attempts_the_event_is_dead_with_its_traceback(inbox: AsyncInbox) -> None:
    router = WebhookRouter()

    @router.on("file.written")
    def always(event: Any) -> None:
        raise ValueError("cannot index this file")

    event_id = await put(inbox)
    await drain(inbox, router, lambda s: s["dead"] == 1, max_attempts=2)
    entry = inbox.sync.get(event_id)
    assert entry is not None and entry.status is EntryStatus.DEAD and entry.attempts == 2
    assert entry.last_error is not None
    assert (
        "Traceback" in entry.last_error and "ValueError: cannot index this file" in entry.last_error
    )
    assert "always" in entry.last_error


async def test_a_hanging_handler_is_cut_off_by_the_timeout_and_retried(inbox: AsyncInbox) -> None:
    router = WebhookRouter()
    runs: list[int] = []

    @router.on("file.written")
    async def hangs_once(event: Any, ctx: DeliveryContext) -> None:
        runs.append(ctx.attempt)
        if ctx.attempt == 1:
            await asyncio.sleep(3600)

    event_id = await put(inbox)
    await drain(inbox, router, lambda s: s["done"] == 1, timeout_seconds=0.2, lease_seconds=5)
    assert runs == [1, 2]
    entry = inbox.sync.get(event_id)
    assert entry is not None and entry.attempts == 2


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so a hung sync handler's abandoned thread ends with the test."""
    event = threading.Event()
    yield event
    event.set()


def hanging_router(release: threading.Event, hang_on: set[int]) -> tuple[WebhookRouter, Any]:
    """A sync handler that hangs on the attempts in ``hang_on``; ``on_error`` records."""
    router = WebhookRouter()
    seen: dict[str, list[Any]] = {"runs": [], "finished": [], "errors": []}

    @router.on("file.written")
    def hangs(event: Any, ctx: DeliveryContext) -> None:
        seen["runs"].append(ctx.attempt)
        if ctx.attempt in hang_on:
            release.wait(60)
        seen["finished"].append(ctx.attempt)

    @router.on_error
    def report(event: Any, error: HandlerError, ctx: DeliveryContext) -> None:
        seen["errors"].append((ctx.attempt, error))

    return router, seen


async def test_a_hanging_sync_handler_is_cut_off_reported_to_on_error_and_retried(
    inbox: AsyncInbox, release: threading.Event
) -> None:
    """A sync handler's thread cannot be stopped: the run is abandoned at the timeout, counted
    as a failure (the error handlers hear of it) and retried."""
    router, seen = hanging_router(release, hang_on={1})
    event_id = await put(inbox)
    started = time.monotonic()
    await drain(inbox, router, lambda s: s["done"] == 1, timeout_seconds=0.3, lease_seconds=10)
    assert time.monotonic() - started < 5  # not after the lease: the worker moved on
    assert seen["runs"] == [1, 2] and seen["finished"] == [2]  # attempt 1 still hangs
    [(attempt, error)] = seen["errors"]
    assert attempt == 1 and isinstance(error, HandlerError)
    [(name, cause)] = error.errors
    assert name.endswith("hangs") and isinstance(cause, TimeoutError)
    assert "0.3s" in str(cause)
    entry = inbox.sync.get(event_id)
    assert entry is not None and entry.attempts == 2 and "0.3s" in (entry.last_error or "")


async def test_a_sync_handler_that_always_hangs_is_dead_lettered_after_max_attempts(
    inbox: AsyncInbox, release: threading.Event
) -> None:
    router, seen = hanging_router(release, hang_on={1, 2})
    event_id = await put(inbox)
    await drain(
        inbox, router, lambda s: s["dead"] == 1, timeout_seconds=0.2, lease_seconds=10,
        max_attempts=2,
    )  # fmt: skip
    assert [attempt for attempt, _ in seen["errors"]] == [1, 2]
    entry = inbox.sync.get(event_id)
    assert entry is not None and entry.status is EntryStatus.DEAD and entry.attempts == 2
    assert "TimeoutError" in (entry.last_error or "") and "hangs" in (entry.last_error or "")


async def test_a_hanging_handler_does_not_hide_an_earlier_handlers_failure(
    inbox: AsyncInbox,
) -> None:
    router = WebhookRouter()
    errors: list[HandlerError] = []

    @router.on("file.written")
    def broken(event: Any) -> None:
        raise ValueError("broken first")

    @router.on("file.written")
    async def hangs(event: Any) -> None:
        await asyncio.sleep(3600)

    router.on_error(lambda event, error: errors.append(error))
    await put(inbox)
    await drain(inbox, router, lambda s: s["dead"] == 1, timeout_seconds=0.2, max_attempts=1)
    [error] = errors
    assert [type(cause) for _, cause in error.errors] == [ValueError, TimeoutError]


async def test_a_hanging_error_handler_is_cut_off_too(inbox: AsyncInbox) -> None:
    """Else one stuck ``on_error`` would hold a claim loop for ever."""
    router = WebhookRouter()

    @router.on("file.written")
    def broken(event: Any) -> None:
        raise ValueError("broken")

    @router.on_error
    async def stuck(event: Any, error: HandlerError) -> None:
        await asyncio.sleep(3600)

    await put(inbox)
    started = time.monotonic()
    await drain(inbox, router, lambda s: s["dead"] == 1, timeout_seconds=0.2, max_attempts=1)
    assert time.monotonic() - started < 5


async def test_slow_sync_handlers_filling_the_thread_pool_never_hold_up_the_inbox(
    inbox: AsyncInbox,
) -> None:
    """Sync handlers run in the shared thread pool (40 threads); when slow ones fill it, the
    inbox's own calls — the 202 path's insert among them — must not queue behind them."""
    release = threading.Event()
    running = 0
    router = WebhookRouter()

    @router.on("file.written")
    def slow(event: Any) -> None:
        nonlocal running
        running += 1
        release.wait(60)

    for _ in range(45):
        await put(inbox)
    pool = WorkerPool(inbox, router, concurrency=45, **FAST)
    await pool.start()
    try:
        deadline = time.monotonic() + 20
        while running < 40:  # every shared thread is taken by a handler
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.wait_for(put(inbox, "exec.completed"), 5)
        assert (await asyncio.wait_for(inbox.stats(), 5))["running"] >= 40
    finally:
        release.set()
        await pool.stop()


async def test_an_entry_this_worker_cannot_parse_is_retried_then_dead_lettered(
    inbox: AsyncInbox,
) -> None:
    """As after a rolling upgrade where the receiver's catalogue differs from the worker's:
    the entry must end dead with the reason, not be claimed again after every lease."""
    delivery = signed_delivery("file.written", secret=SECRET)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    # The row as such a receiver stored it: the data does not fit this SDK's FileWritten.
    stored = delivery.body.replace(b'"path":', b'"path":{"nested":1},"was":')
    await inbox.enqueue(verified, stored, {}, received_at=time.time())
    router = WebhookRouter()
    router.on_any(lambda event: None)
    await drain(inbox, router, lambda s: s["dead"] == 1, max_attempts=2, lease_seconds=60)
    entry = inbox.sync.get(delivery.event_id)
    assert entry is not None and entry.attempts == 2
    assert "does not parse here" in (entry.last_error or "")


async def test_stop_waits_for_the_handler_in_hand(inbox: AsyncInbox) -> None:
    router = WebhookRouter()
    finished: list[str] = []
    started = asyncio.Event()

    @router.on("file.written")
    async def slow(event: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(event.id)

    event_id = await put(inbox)
    pool = WorkerPool(inbox, router, **FAST)
    await pool.start()
    await asyncio.wait_for(started.wait(), 10)
    await pool.stop()
    assert finished == [event_id]
    assert (await inbox.stats())["done"] == 1


async def test_concurrent_loops_share_the_work(inbox: AsyncInbox) -> None:
    router = WebhookRouter()
    active = 0
    peak = 0

    @router.on("exec.completed")
    async def io_bound(event: Any) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    for _ in range(12):
        await put(inbox, "exec.completed")
    await drain(inbox, router, lambda s: s["done"] == 12, concurrency=4)
    assert peak >= 2


async def test_ordered_inbox_runs_each_namespace_in_created_order_one_at_a_time(
    inbox_url: str,
) -> None:
    inbox = open_inbox(inbox_url + ("&" if "?" in inbox_url else "?") + "ordered=true")
    router = WebhookRouter()
    log: list[tuple[str, str, str]] = []

    @router.on("file.written")
    async def record(event: Any) -> None:
        log.append(("start", event.namespace, event.data.path))
        await asyncio.sleep(0.01)
        log.append(("end", event.namespace, event.data.path))

    for second in (5, 1, 4, 2, 3):  # arrival order differs from created order
        for ns in ("alice", "bob"):
            await put(
                inbox,
                namespace=ns,
                created_at=f"2026-05-01T00:00:0{second}.000Z",
                data={"path": f"workspace/{second}"},
            )
    await drain(inbox, router, lambda s: s["done"] == 10, concurrency=4)
    await inbox.aclose()
    for ns in ("alice", "bob"):
        mine = [(kind, path) for kind, n, path in log if n == ns]
        assert [p for kind, p in mine if kind == "start"] == [f"workspace/{i}" for i in range(1, 6)]
        # strictly alternating start/end: never two of one namespace at once
        assert [kind for kind, _ in mine] == ["start", "end"] * 5
