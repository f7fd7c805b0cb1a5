"""The PostgreSQL inbox on many hosts: leases and due times follow the database's clock.

Each host here is an inbox object of its own over the same table; one of them has a clock two
minutes ahead (``_clock``, the host clock the SQLite inbox reads). On PostgreSQL it must not
matter: no host's clock decides whose lease has run out or when a retry is due.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.webhooks.conftest import SECRET, drop_postgres_table
from tests.webhooks.inbox.test_inbox import put
from trove_sdk import WebhookVerifier
from trove_webhooks.inbox import SqlInbox, open_sync_inbox
from trove_webhooks.testing import signed_delivery

pytestmark = pytest.mark.postgres

SKEW_SECONDS = 120.0


@pytest.fixture
def hosts(postgres_url: str) -> Iterator[tuple[SqlInbox, SqlInbox]]:
    """``(honest, ahead)``: two hosts sharing one inbox table; the second's clock is fast."""
    table = f"test_inbox_{uuid.uuid4().hex[:12]}"
    honest = open_sync_inbox(f"{postgres_url}?table={table}")
    ahead = open_sync_inbox(f"{postgres_url}?table={table}")
    ahead._clock = lambda: time.time() + SKEW_SECONDS
    yield honest, ahead
    honest.close()
    ahead.close()
    drop_postgres_table(postgres_url, table)


def test_a_host_whose_clock_runs_ahead_cannot_take_an_entry_under_a_live_lease(
    hosts: tuple[SqlInbox, SqlInbox],
) -> None:
    honest, ahead = hosts
    event_id = put(honest)
    held = honest.claim(lease_seconds=30)
    assert held is not None and held.event_id == event_id
    assert ahead.claim(lease_seconds=30) is None  # 120 s "later" by its clock: still held
    assert honest.complete(event_id, held.lease_token or "") is True


def test_a_host_whose_clock_runs_ahead_waits_out_a_retry_backoff(
    hosts: tuple[SqlInbox, SqlInbox],
) -> None:
    honest, ahead = hosts
    put(honest)
    entry = honest.claim(lease_seconds=30)
    assert entry is not None
    assert honest.fail(entry.event_id, entry.lease_token or "", "boom", retry_in=60)
    assert ahead.claim(lease_seconds=30) is None


def test_an_entry_enqueued_by_a_host_whose_clock_runs_ahead_is_due_at_once(
    hosts: tuple[SqlInbox, SqlInbox],
) -> None:
    """As a receiver on that host stores it: received "two minutes from now"."""
    honest, ahead = hosts
    delivery = signed_delivery(secret=SECRET)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    assert ahead.enqueue(verified, delivery.body, {}, received_at=ahead._clock())
    entry = honest.claim(lease_seconds=30)
    assert entry is not None and entry.event_id == delivery.event_id


def test_an_expired_lease_is_still_taken_over_by_the_database_clock(
    hosts: tuple[SqlInbox, SqlInbox],
) -> None:
    honest, ahead = hosts
    put(ahead)
    first = ahead.claim(lease_seconds=0.2)
    assert first is not None
    assert honest.claim(lease_seconds=30) is None
    time.sleep(0.3)
    second = honest.claim(lease_seconds=30)
    assert second is not None and second.event_id == first.event_id and second.attempts == 2
