"""Every error ``trove_webhooks`` raises to its users.

TroveError (trove_sdk)
├── StoreUnavailableError      the idempotency store or inbox cannot be reached (→ 503)
├── HandlerError               one or more handlers raised; carries the event and each failure
└── ConfigurationError         a bad router, store URL or option, found before serving

A ``WebhookSignatureError`` from ``trove_sdk`` is the fourth kind a receiver meets; it is
answered with ``400`` and never raised past the receiver. Messages never contain a secret or a
URL password (URLs go through ``mask_url``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trove_sdk import TroveError

__all__ = ["ConfigurationError", "HandlerError", "StoreUnavailableError"]


class StoreUnavailableError(TroveError):
    """The store (Redis, PostgreSQL, SQLite, an inbox) did not answer; nothing was recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 503)


class ConfigurationError(TroveError, ValueError):
    """A mistake in how the receiver was set up: caught at registration or start-up."""


class HandlerError(TroveError):
    """One or more handlers failed for ``event``; ``errors`` pairs each handler with its error."""

    def __init__(self, event: Any, errors: Sequence[tuple[str, BaseException]]) -> None:
        names = ", ".join(name for name, _ in errors)
        super().__init__(f"{len(errors)} handler(s) failed for {event.type} {event.id}: {names}")
        self.event = event
        self.errors: tuple[tuple[str, BaseException], ...] = tuple(errors)

    @property
    def handler_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.errors)
