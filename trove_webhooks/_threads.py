"""Threads for blocking storage calls, apart from the pool that sync handlers run in.

Sync handlers run in the event loop's shared thread pool (Starlette's ``run_in_threadpool``,
40 threads). Were the inbox and store calls to wait for the same threads, slow handlers
filling it would hold up the ``202`` path's insert, claims, results and ``/healthz`` behind
them. Each inbox or store therefore owns a few threads of its own.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["StorageThreads"]

T = TypeVar("T")


class StorageThreads:
    """``await threads.run(func, *args)``: ``func`` in one of this owner's own threads."""

    def __init__(self, name: str, size: int) -> None:
        self._name = name
        self._size = size
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        # Made on first use, and again after shutdown(): a closed store may be used again
        # (an app whose lifespan runs twice reopens its store lazily).
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._size, thread_name_prefix=self._name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args))

    def shutdown(self) -> None:
        """Let the threads end once idle; nothing waits for them."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
