"""Group commit: the store calls made during one turn of the event loop, sent together.

Under load many deliveries claim and complete at the same moment. A Redis pipeline or one
SQLite transaction for all of them costs little more than for one, so the per-call price
(a round trip, a commit) is paid once per batch. A lone call goes alone, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["LoopBatcher"]

Item = TypeVar("Item")

# The flush tasks, referenced until done: the event loop keeps only weak references to tasks.
_RUNNING: set[asyncio.Task[None]] = set()


class LoopBatcher(Generic[Item]):
    """``await batcher.submit(item)`` → that item's result from ``send(batch)``.

    ``send`` returns one result per item, in order; an exception in that list fails only its
    own caller, an exception raised by ``send`` fails every caller in the batch.
    """

    def __init__(self, send: Callable[[list[Item]], Awaitable[Sequence[Any]]]) -> None:
        self._send = send
        self._pending: list[tuple[Item, asyncio.Future[Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, item: Item) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None and not self._loop.is_running():
                # Left pending by a loop that has stopped: its flush will never run.
                self._pending = []
            self._loop = loop
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((item, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._deliver(batch))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)

    async def _deliver(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._send([item for item, _ in batch])
        except BaseException as exc:  # every caller of this batch must hear about it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
