"""Choosing an inbox by URL: schemes, suggestions, instances passed through, registration."""

from __future__ import annotations

from pathlib import Path

import pytest

from trove_webhooks import ConfigurationError
from trove_webhooks.inbox import (
    INBOX_SCHEMES,
    AsyncInbox,
    open_inbox,
    open_sync_inbox,
    register_inbox,
)
from trove_webhooks.inbox.sqlite import SQLiteInbox


def test_a_sqlite_url_opens_the_sqlite_inbox_and_its_async_face(tmp_path: Path) -> None:
    inbox = open_inbox(f"sqlite:///{tmp_path}/i.db")
    assert isinstance(inbox, AsyncInbox)
    assert isinstance(inbox.sync, SQLiteInbox)


def test_an_inbox_instance_is_used_as_it_is(tmp_path: Path) -> None:
    sync = SQLiteInbox(f"{tmp_path}/i.db")
    assert open_sync_inbox(sync) is sync
    wrapped = open_inbox(sync)
    assert open_inbox(wrapped) is wrapped


def test_the_memory_and_redis_schemes_are_not_inboxes() -> None:
    """Queued mode needs durable storage; an in-memory queue would lose acknowledged events."""
    with pytest.raises(ConfigurationError, match="Known: sqlite://"):
        open_sync_inbox("memory://")


def test_a_misspelt_scheme_gets_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean postgresql://"):
        open_sync_inbox("postgressql://db/x")


def test_register_inbox_adds_a_scheme(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(INBOX_SCHEMES, "lite", INBOX_SCHEMES["sqlite"])
    register_inbox("lite", SQLiteInbox)
    assert isinstance(open_sync_inbox(f"sqlite:///{tmp_path}/i.db"), SQLiteInbox)
    assert INBOX_SCHEMES["lite"] == "trove_webhooks.inbox.sqlite:SQLiteInbox"
