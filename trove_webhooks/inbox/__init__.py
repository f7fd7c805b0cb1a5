"""The durable inbox (queued mode), chosen by URL: ``sqlite:///path`` or ``postgresql://``.

``open_inbox`` gives the async face the ASGI app and workers use; ``open_sync_inbox`` the sync
one (WSGI, the ``trove webhooks inbox`` commands). ``register_inbox`` adds a scheme.
"""

from __future__ import annotations

from typing import Any

from trove_webhooks._urls import mask_url
from trove_webhooks.errors import ConfigurationError
from trove_webhooks.inbox.base import AsyncInbox, EntryStatus, InboxEntry, SqlInbox
from trove_webhooks.stores import import_target, resolve_scheme

__all__ = [
    "INBOX_SCHEMES",
    "AsyncInbox",
    "EntryStatus",
    "InboxEntry",
    "SqlInbox",
    "open_inbox",
    "open_sync_inbox",
    "register_inbox",
]

# scheme → sync class as "module:attribute"; the async face wraps it.
INBOX_SCHEMES: dict[str, str] = {
    "sqlite": "trove_webhooks.inbox.sqlite:SQLiteInbox",
    "postgresql": "trove_webhooks.inbox.postgres:PostgresInbox",
    "postgres": "trove_webhooks.inbox.postgres:PostgresInbox",
}


def register_inbox(scheme: str, target: str | type) -> None:
    INBOX_SCHEMES[scheme] = (
        target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"
    )


def open_sync_inbox(url_or_inbox: str | SqlInbox) -> SqlInbox:
    if not isinstance(url_or_inbox, str):
        return url_or_inbox
    pairs = {scheme: (target, target) for scheme, target in INBOX_SCHEMES.items()}
    target = resolve_scheme(url_or_inbox, pairs, "inbox")[0]
    try:
        inbox: SqlInbox = import_target(target).from_url(url_or_inbox)
    except ValueError as exc:
        raise ConfigurationError(f"inbox {mask_url(url_or_inbox)}: {exc}") from exc
    return inbox


def open_inbox(url_or_inbox: str | SqlInbox | AsyncInbox | Any) -> AsyncInbox:
    if isinstance(url_or_inbox, AsyncInbox):
        return url_or_inbox
    return AsyncInbox(open_sync_inbox(url_or_inbox))
