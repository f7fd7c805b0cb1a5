"""The SQLite store's transactions: a failure at any step leaves no transaction open; the async
store copies its log back into the database in a thread, never in a commit on the loop."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from trove_webhooks import StoreUnavailableError
from trove_webhooks.stores import ClaimStatus
from trove_webhooks.stores.sqlite import CHECKPOINT_EVERY_COMMITS, AsyncSQLiteStore, SQLiteStore


class CommitFailsOnce:
    """A connection whose next COMMIT fails as on a full disk: a fault no test can cause for
    real on a shared machine (everything else goes to the real connection)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = True

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_failed_commit_is_a_503_and_the_next_claim_works(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "claims.db"))
    try:
        assert store.claim("evt-first", lease_seconds=30).status is ClaimStatus.ACQUIRED
        store._connection = CommitFailsOnce(store._connection)  # type: ignore[assignment,arg-type]
        with pytest.raises(StoreUnavailableError, match="disk is full"):
            store.claim("evt-lost", lease_seconds=30)
        # Rolled back: the failed claim left nothing behind, and the store serves again.
        assert store.claim("evt-lost", lease_seconds=30).status is ClaimStatus.ACQUIRED
        assert store.claim("evt-first", lease_seconds=30).status is ClaimStatus.IN_FLIGHT
    finally:
        store.close()


def test_the_async_store_checkpoints_in_a_thread_and_never_in_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "claims.db"
    events = CHECKPOINT_EVERY_COMMITS * 2  # a claim and a complete each: 4 checkpoints' worth

    async def scenario() -> int:
        store = AsyncSQLiteStore(str(path))
        try:
            for i in range(events):
                claim = await store.claim(f"evt-{i}", lease_seconds=30)
                assert claim.token is not None
                await store.complete(f"evt-{i}", claim.token)
            checkpoint = store._checkpoint
            assert checkpoint is not None
            await checkpoint
            assert store._connection is not None
            # The loop's own connection would have checkpointed (and fsynced) on a commit.
            return int(store._connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        finally:
            await store.aclose()

    assert asyncio.run(scenario()) == 0
    # The database file alone, without its log, holds every claim: the thread copied them in.
    shutil.copy(path, tmp_path / "file-only.db")
    copy = sqlite3.connect(tmp_path / "file-only.db")
    try:
        (done,) = copy.execute(
            "SELECT count(*) FROM trove_webhook_claims WHERE state = 'done'"
        ).fetchone()
    finally:
        copy.close()
    assert done == events


def test_a_failing_checkpoint_is_logged_and_the_store_keeps_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_checkpoint_connection(path: str) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    async def scenario() -> None:
        store = AsyncSQLiteStore(str(tmp_path / "claims.db"))
        try:
            await store.claim("evt-first", lease_seconds=30)  # opens the loop's connection
            # Only the checkpoint thread connects from now on: make that fail, as on a full
            # file table (a fault that cannot be caused for real here).
            monkeypatch.setattr(
                "trove_webhooks.stores.sqlite.connect_sqlite", no_checkpoint_connection
            )
            for i in range(CHECKPOINT_EVERY_COMMITS):
                await store.claim(f"evt-{i}", lease_seconds=30)
            assert store._checkpoint is not None
            await store._checkpoint
            claim = await store.claim("evt-after", lease_seconds=30)
            assert claim.status is ClaimStatus.ACQUIRED
        finally:
            await store.aclose()

    asyncio.run(scenario())
    assert "checkpoint failed: unable to open database file" in caplog.text
