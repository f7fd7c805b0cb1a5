"""The SQLite store's transactions: a failure at any step leaves no transaction open."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from trove_webhooks import StoreUnavailableError
from trove_webhooks.stores import ClaimStatus
from trove_webhooks.stores.sqlite import SQLiteStore


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
