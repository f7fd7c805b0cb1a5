"""The in-process store: the default for one receiver process, and for tests.

It holds nothing across processes or restarts, so ``serve --workers N`` refuses it.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from trove_webhooks.stores.base import DEFAULT_RETENTION_SECONDS, Claim, ClaimStatus, new_token

__all__ = ["AsyncMemoryStore", "MemoryStore"]

_RUNNING, _DONE = 0, 1


class _MemoryBase:
    """State and lease arithmetic; both twins call these under one lock (no I/O, no await)."""

    shared_across_processes: ClassVar[bool] = False
    shared_across_hosts: ClassVar[bool] = False

    def __init__(
        self,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self.retention_seconds = retention_seconds
        self._clock = clock
        # event id → (state, token, expires_at); a running entry expires when its lease does.
        self._entries: dict[str, tuple[int, str, float]] = {}
        # (expires_at, event id) for every write, soonest first: a sweep pops only what has
        # expired instead of scanning every entry (a busy receiver holds millions of them).
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> _MemoryBase:
        from trove_webhooks._urls import split_options

        _, options = split_options(url, ["retention_seconds"])
        retention = float(options.get("retention_seconds", DEFAULT_RETENTION_SECONDS))
        return cls(retention_seconds=retention)

    def _claim(self, event_id: str, lease_seconds: float) -> Claim:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(event_id)
            if entry is None or entry[2] <= now:
                token = new_token()
                self._write(event_id, (_RUNNING, token, now + lease_seconds), now)
                return Claim(ClaimStatus.ACQUIRED, token)
            if entry[0] == _DONE:
                return Claim(ClaimStatus.DONE)
            return Claim(ClaimStatus.IN_FLIGHT, retry_after=entry[2] - now)

    def _complete(self, event_id: str, token: str) -> None:
        now = self._clock()
        with self._lock:
            self._write(event_id, (_DONE, token, now + self.retention_seconds), now)

    def _release(self, event_id: str, token: str) -> None:
        with self._lock:
            entry = self._entries.get(event_id)
            if entry is not None and entry[0] == _RUNNING and entry[1] == token:
                del self._entries[event_id]

    def _write(self, event_id: str, entry: tuple[int, str, float], now: float) -> None:
        """Store ``entry`` and drop whatever has expired by ``now`` (called under the lock)."""
        self._entries[event_id] = entry
        expiries = self._expiries
        heapq.heappush(expiries, (entry[2], event_id))
        while expiries and expiries[0][0] <= now:
            _, key = heapq.heappop(expiries)
            current = self._entries.get(key)
            # The entry may have been written again since (a lease became done): keep it then.
            if current is not None and current[2] <= now:
                del self._entries[key]

    def size(self) -> int:
        """Records held (running or done), expired ones not yet swept included."""
        return len(self._entries)


class MemoryStore(_MemoryBase):
    """Sync in-process store."""

    def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        return self._claim(event_id, lease_seconds)

    def complete(self, event_id: str, token: str) -> None:
        self._complete(event_id, token)

    def release(self, event_id: str, token: str) -> None:
        self._release(event_id, token)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class AsyncMemoryStore(_MemoryBase):
    """Async in-process store (the ``create_app`` default)."""

    async def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        return self._claim(event_id, lease_seconds)

    async def complete(self, event_id: str, token: str) -> None:
        self._complete(event_id, token)

    async def release(self, event_id: str, token: str) -> None:
        self._release(event_id, token)

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
