"""The in-process store: the default for one receiver process, and for tests.

It holds nothing across processes or restarts, so ``serve --workers N`` refuses it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from trove_webhooks.stores.base import DEFAULT_RETENTION_SECONDS, Claim, ClaimStatus

__all__ = ["AsyncMemoryStore", "MemoryStore"]

_DUPLICATE = Claim(ClaimStatus.DONE)


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
        # A running lease: event id → (token, expires_at); a done record: event id → expires_at.
        # An event is in one of the two while it is not expired (complete moves it over).
        self._running: dict[str, tuple[str, float]] = {}
        self._done: dict[str, float] = {}
        # Every write's expiry and event id, in the order written: one queue pair for leases,
        # one for done records. Each kind's lifetime is the same for every write (the
        # receiver's lease, the retention), so each queue is in expiry order and a sweep pops
        # only what has expired from its front — no scan of every record (a busy receiver holds
        # millions), and no heap, whose every push sifted a short lease up past the long-lived
        # done records. Should a caller vary lease_seconds, an expired lease queued behind a
        # longer one is dropped late, never early: a sweep checks the record itself.
        # Floats and strings in separate deques, not tuples, and done records as plain floats:
        # nothing the store keeps is an object the garbage collector tracks, so the records of
        # a busy receiver do not make every collection longer and more frequent.
        self._lease_times: deque[float] = deque()
        self._lease_keys: deque[str] = deque()
        self._done_times: deque[float] = deque()
        self._done_keys: deque[str] = deque()
        self._lock = threading.Lock()
        # Claim tokens only need to differ within this store, which lives in one process: a
        # counter does, at half the price of base.new_token()'s random bits.
        self._tokens = itertools.count(1)

    @classmethod
    def from_url(cls, url: str) -> _MemoryBase:
        from trove_webhooks._urls import split_options

        _, options = split_options(url, ["retention_seconds"])
        retention = float(options.get("retention_seconds", DEFAULT_RETENTION_SECONDS))
        return cls(retention_seconds=retention)

    def _claim(self, event_id: str, lease_seconds: float) -> Claim:
        now = self._clock()
        with self._lock:
            done_until = self._done.get(event_id)
            if done_until is not None and done_until > now:
                return _DUPLICATE
            lease = self._running.get(event_id)
            if lease is not None and lease[1] > now:
                return Claim(ClaimStatus.IN_FLIGHT, retry_after=lease[1] - now)
            token = str(next(self._tokens))
            expires_at = now + lease_seconds
            self._running[event_id] = (token, expires_at)
            self._lease_times.append(expires_at)
            self._lease_keys.append(event_id)
            self._sweep(now)
            return Claim(ClaimStatus.ACQUIRED, token)

    def _complete(self, event_id: str, token: str) -> None:
        now = self._clock()
        expires_at = now + self.retention_seconds
        with self._lock:
            self._running.pop(event_id, None)
            self._done[event_id] = expires_at
            self._done_times.append(expires_at)
            self._done_keys.append(event_id)
            self._sweep(now)

    def _release(self, event_id: str, token: str) -> None:
        with self._lock:
            lease = self._running.get(event_id)
            if lease is not None and lease[0] == token:
                del self._running[event_id]

    def _sweep(self, now: float) -> None:
        """Drop whatever has expired by ``now`` (called under the lock, at every write)."""
        times, keys, running = self._lease_times, self._lease_keys, self._running
        while times and times[0] <= now:
            times.popleft()
            key = keys.popleft()
            lease = running.get(key)
            # The event may have been claimed again since: keep a lease that is still live.
            if lease is not None and lease[1] <= now:
                del running[key]
        times, keys, done = self._done_times, self._done_keys, self._done
        while times and times[0] <= now:
            times.popleft()
            key = keys.popleft()
            until = done.get(key)
            if until is not None and until <= now:
                del done[key]

    def size(self) -> int:
        """Records held (running or done), expired ones not yet swept included."""
        return len(self._running) + len(self._done)


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
