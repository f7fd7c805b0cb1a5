"""The SQLite inbox's transactions: a failed COMMIT is a 503 for that call only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webhooks.conftest import SECRET
from tests.webhooks.stores.test_sqlite import CommitFailsOnce
from trove_sdk import WebhookVerifier
from trove_webhooks import StoreUnavailableError
from trove_webhooks.inbox.sqlite import SQLiteInbox
from trove_webhooks.testing import signed_delivery


def test_a_failed_commit_is_unavailable_and_the_next_enqueue_is_stored(tmp_path: Path) -> None:
    inbox = SQLiteInbox(str(tmp_path / "inbox.db"))
    verifier = WebhookVerifier(SECRET)
    delivery = signed_delivery("file.written", secret=SECRET)
    verified = verifier.verify(delivery.body, delivery.headers["X-Trove-Signature"])
    try:
        assert inbox.stats()["pending"] == 0  # opens the connection
        inbox._connection = CommitFailsOnce(inbox._connection)  # type: ignore[assignment,arg-type]
        with pytest.raises(StoreUnavailableError, match="disk is full"):
            inbox.enqueue(verified, delivery.body, {}, received_at=1.0)
        assert inbox.enqueue(verified, delivery.body, {}, received_at=2.0) is True
        assert inbox.stats()["pending"] == 1
    finally:
        inbox.close()
