"""The idempotency-store contract: claim an event id, then complete or release it.

A claim is a lease: the receiver that holds it runs the handlers, then ``complete`` records the
event as done for ``retention_seconds`` (duplicates inside that time answer ``duplicate``) or
``release`` gives it back after a failure (the sender's retry may claim it again). A receiver
that dies holding a claim never releases it; the lease expires and the next delivery claims it.

Every backend has a sync class (WSGI, Flask, scripts) and an async class (ASGI) with the same
method names; each pair shares one base holding its statement text and lease arithmetic.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_RETENTION_SECONDS",
    "AsyncIdempotencyStore",
    "Claim",
    "ClaimStatus",
    "IdempotencyStore",
    "StoreOptions",
    "new_token",
]

# Longer than the sender's whole retry schedule (CONTRACT X3: ~11 h from first to last try) so a
# late retry of a processed event is still recognised, and far longer than the 300 s window.
DEFAULT_RETENTION_SECONDS = 3 * 24 * 3600
# A handler that runs longer than its lease may be run again by a concurrent retry.
DEFAULT_LEASE_SECONDS = 60.0
# How many writes between sweeps of expired rows (SQL stores); Redis and memory expire by TTL.
SWEEP_EVERY = 1000


class ClaimStatus(enum.Enum):
    ACQUIRED = "acquired"  # this caller holds the lease and must complete or release it
    DONE = "done"  # processed before, inside the retention time: a duplicate
    IN_FLIGHT = "in_flight"  # another caller holds a live lease


class Claim(NamedTuple):
    """The answer to a claim (a tuple: made once per delivery, on the hot path)."""

    status: ClaimStatus
    token: str | None = None  # set when ACQUIRED; proves ownership to release()
    retry_after: float = 0.0  # seconds left on the other holder's lease when IN_FLIGHT

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, at least 1, for an HTTP ``Retry-After``."""
        return str(max(1, math.ceil(self.retry_after)))


def new_token() -> str:
    """A claim's ownership token: unique, not secret (it only tells this claim from another).

    64 bits from ``random`` (seeded from the OS, and reseeded in a forked child) instead of
    ``secrets``: one claim per delivery, and a system call each time cost more than the rest
    of the claim in the memory store.
    """
    return f"{random.getrandbits(64):016x}"


@dataclass(frozen=True)
class StoreOptions:
    """Options every backend takes, from keyword arguments or the URL query."""

    retention_seconds: float = DEFAULT_RETENTION_SECONDS

    def __post_init__(self) -> None:
        if not self.retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")


@runtime_checkable
class IdempotencyStore(Protocol):
    """The sync contract (WSGI). ``claim`` never blocks waiting for another holder."""

    shared_across_processes: ClassVar[bool]
    shared_across_hosts: ClassVar[bool]
    retention_seconds: float

    def claim(self, event_id: str, *, lease_seconds: float) -> Claim: ...
    def complete(self, event_id: str, token: str) -> None: ...
    def release(self, event_id: str, token: str) -> None: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class AsyncIdempotencyStore(Protocol):
    """The async contract (ASGI): the same operations, awaited."""

    shared_across_processes: ClassVar[bool]
    shared_across_hosts: ClassVar[bool]
    retention_seconds: float

    async def claim(self, event_id: str, *, lease_seconds: float) -> Claim: ...
    async def complete(self, event_id: str, token: str) -> None: ...
    async def release(self, event_id: str, token: str) -> None: ...
    async def ping(self) -> None: ...
    async def aclose(self) -> None: ...
