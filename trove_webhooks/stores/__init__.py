"""Idempotency stores, chosen by URL: ``memory://``, ``sqlite:///path``, ``redis://``,
``rediss://``, ``postgresql://`` (or ``postgres://``).

``open_store`` returns the async twin (what ``create_app`` uses), ``open_sync_store`` the sync
one (WSGI, Flask). Each imports only the backend the URL names, so a missing driver matters only
when that backend is asked for. ``register_store`` adds a scheme.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from trove_webhooks._urls import mask_url
from trove_webhooks.errors import ConfigurationError
from trove_webhooks.stores.base import (
    AsyncIdempotencyStore,
    Claim,
    ClaimStatus,
    IdempotencyStore,
)

__all__ = [
    "STORE_SCHEMES",
    "AsyncIdempotencyStore",
    "Claim",
    "ClaimStatus",
    "IdempotencyStore",
    "mask_url",
    "open_store",
    "open_sync_store",
    "register_store",
]

# scheme → (sync class, async class) as "module:attribute"; imported only when asked for.
STORE_SCHEMES: dict[str, tuple[str, str]] = {
    "memory": (
        "trove_webhooks.stores.memory:MemoryStore",
        "trove_webhooks.stores.memory:AsyncMemoryStore",
    ),
    "sqlite": (
        "trove_webhooks.stores.sqlite:SQLiteStore",
        "trove_webhooks.stores.sqlite:AsyncSQLiteStore",
    ),
    "redis": (
        "trove_webhooks.stores.redis:RedisStore",
        "trove_webhooks.stores.redis:AsyncRedisStore",
    ),
    "rediss": (
        "trove_webhooks.stores.redis:RedisStore",
        "trove_webhooks.stores.redis:AsyncRedisStore",
    ),
    "postgresql": (
        "trove_webhooks.stores.postgres:PostgresStore",
        "trove_webhooks.stores.postgres:AsyncPostgresStore",
    ),
    "postgres": (
        "trove_webhooks.stores.postgres:PostgresStore",
        "trove_webhooks.stores.postgres:AsyncPostgresStore",
    ),
}


def register_store(scheme: str, sync_target: str | type, async_target: str | type) -> None:
    """Serve ``scheme://`` URLs with these classes (each has ``from_url(url)``)."""
    STORE_SCHEMES[scheme] = (_as_target(sync_target), _as_target(async_target))


def _as_target(target: str | type) -> str:
    if isinstance(target, str):
        return target
    return f"{target.__module__}:{target.__qualname__}"


def resolve_scheme(url: str, schemes: dict[str, tuple[str, str]], what: str) -> tuple[str, str]:
    """The (sync, async) targets for ``url``'s scheme, or a ``ConfigurationError`` with a hint."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            f"{what} must be a URL like {next(iter(schemes))}://..., got {mask_url(str(url))!r}"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme not in schemes:
        close = difflib.get_close_matches(scheme, list(schemes), n=1)
        hint = f" Did you mean {close[0]}://?" if close else ""
        known = ", ".join(f"{s}://" for s in schemes)
        raise ConfigurationError(f"unknown {what} scheme {scheme!r}.{hint} Known: {known}")
    return schemes[scheme]


def import_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _open(url_or_store: Any, index: int) -> Any:
    if not isinstance(url_or_store, str):
        return url_or_store
    target = resolve_scheme(url_or_store, STORE_SCHEMES, "store")[index]
    cls = import_target(target)
    try:
        return cls.from_url(url_or_store)
    except ValueError as exc:
        raise ConfigurationError(f"store {mask_url(url_or_store)}: {exc}") from exc


def open_store(url_or_store: str | AsyncIdempotencyStore | None = None) -> AsyncIdempotencyStore:
    """The async store for a URL (``None`` → in-memory); an instance is returned unchanged."""
    store: AsyncIdempotencyStore = _open("memory://" if url_or_store is None else url_or_store, 1)
    return store


def open_sync_store(url_or_store: str | IdempotencyStore | None = None) -> IdempotencyStore:
    """The sync store for a URL (``None`` → in-memory); an instance is returned unchanged."""
    store: IdempotencyStore = _open("memory://" if url_or_store is None else url_or_store, 0)
    return store
