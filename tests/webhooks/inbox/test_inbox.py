"""The inbox contract on SQLite and the real PostgreSQL: enqueue, claim, complete, fail,
dead-letter, retry, purge, ordering, migrations."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.webhooks.conftest import SECRET
from trove_sdk import WebhookVerifier
from trove_webhooks.inbox import EntryStatus, SqlInbox, open_sync_inbox
from trove_webhooks.stores.base import DEFAULT_RETENTION_SECONDS
from trove_webhooks.testing import signed_delivery


@pytest.fixture
def inbox(inbox_url: str) -> Iterator[SqlInbox]:
    box = open_sync_inbox(inbox_url)
    yield box
    box.close()


def put(inbox: SqlInbox, event_type: str = "file.written", **kwargs: Any) -> str:
    delivery = signed_delivery(event_type, secret=SECRET, **kwargs)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert inbox.enqueue(verified, delivery.body, headers, received_at=time.time())
    return delivery.event_id


def test_an_enqueued_delivery_is_pending_and_a_second_copy_is_absorbed(inbox: SqlInbox) -> None:
    delivery = signed_delivery(secret=SECRET)
    verified = WebhookVerifier(SECRET).verify(delivery.body, delivery.headers["X-Trove-Signature"])
    assert inbox.enqueue(verified, delivery.body, {}, received_at=time.time()) is True
    assert inbox.enqueue(verified, delivery.body, {}, received_at=time.time()) is False
    assert inbox.stats() == {"pending": 1, "running": 0, "done": 0, "dead": 0}


def test_a_claim_returns_the_exact_body_and_the_trove_headers(inbox: SqlInbox) -> None:
    event_id = put(inbox, attempt=4)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    assert entry.event_id == event_id and entry.status is EntryStatus.RUNNING
    assert entry.attempts == 1
    assert b'"id":"' + event_id.encode() in (entry.body or b"")
    assert (entry.headers or {})["x-trove-attempt"] == "4"
    assert "x-trove-signature" in (entry.headers or {})


def test_a_claimed_entry_is_not_claimed_twice(inbox: SqlInbox) -> None:
    put(inbox)
    assert inbox.claim(lease_seconds=30) is not None
    assert inbox.claim(lease_seconds=30) is None


def test_complete_marks_done_only_for_the_lease_holder(inbox: SqlInbox) -> None:
    put(inbox)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None and entry.lease_token
    assert inbox.complete(entry.event_id, "someone-else") is False
    assert inbox.complete(entry.event_id, entry.lease_token) is True
    assert inbox.stats()["done"] == 1


def test_an_expired_lease_is_claimed_again_and_the_old_holder_cannot_complete(
    inbox: SqlInbox,
) -> None:
    put(inbox)
    first = inbox.claim(lease_seconds=0.2)
    time.sleep(0.3)
    second = inbox.claim(lease_seconds=30)
    assert first is not None and second is not None
    assert second.event_id == first.event_id and second.attempts == 2
    assert inbox.complete(first.event_id, first.lease_token or "") is False
    assert inbox.complete(second.event_id, second.lease_token or "") is True


def test_a_failure_waits_for_its_backoff_before_the_next_attempt(inbox: SqlInbox) -> None:
    put(inbox)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    assert inbox.fail(entry.event_id, entry.lease_token or "", "boom", retry_in=0.3)
    assert inbox.claim(lease_seconds=30) is None
    time.sleep(0.4)
    again = inbox.claim(lease_seconds=30)
    assert again is not None and again.attempts == 2 and again.last_error == "boom"


def test_a_failure_without_retry_dead_letters_with_its_error(inbox: SqlInbox) -> None:
    event_id = put(inbox)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    inbox.fail(event_id, entry.lease_token or "", "Traceback ...\nValueError: bad", retry_in=None)
    dead = inbox.get(event_id)
    assert dead is not None and dead.status is EntryStatus.DEAD
    assert dead.last_error and "ValueError: bad" in dead.last_error
    assert inbox.claim(lease_seconds=30) is None


def test_retry_brings_a_dead_entry_back_with_a_fresh_attempt_count(inbox: SqlInbox) -> None:
    event_id = put(inbox)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    inbox.fail(event_id, entry.lease_token or "", "bad", retry_in=None)
    assert inbox.retry(event_id) is True
    again = inbox.claim(lease_seconds=30)
    assert again is not None and again.attempts == 1


def test_retry_of_a_pending_or_unknown_entry_changes_nothing(inbox: SqlInbox) -> None:
    event_id = put(inbox)
    assert inbox.retry(event_id) is False
    assert inbox.retry("evt-unknown") is False


def test_retry_dead_requeues_every_dead_entry(inbox: SqlInbox) -> None:
    for _ in range(3):
        put(inbox)
        entry = inbox.claim(lease_seconds=30)
        assert entry is not None
        inbox.fail(entry.event_id, entry.lease_token or "", "bad", retry_in=None)
    assert inbox.retry_dead() == 3
    assert inbox.stats()["pending"] == 3


def test_purge_removes_old_done_entries_and_keeps_dead_ones_unless_asked(inbox: SqlInbox) -> None:
    done_id, dead_id, fresh_id = put(inbox), put(inbox), put(inbox)
    for event_id, fail in ((done_id, False), (dead_id, True)):
        entry = inbox.claim(lease_seconds=30)
        assert entry is not None and entry.event_id == event_id
        if fail:
            inbox.fail(event_id, entry.lease_token or "", "bad", retry_in=None)
        else:
            inbox.complete(event_id, entry.lease_token or "")
    assert inbox.purge(older_than_seconds=3600, force=True) == 0
    assert inbox.purge(older_than_seconds=0, force=True) == 1
    assert inbox.get(done_id) is None and inbox.get(dead_id) is not None
    assert inbox.purge(older_than_seconds=0, include_dead=True, force=True) == 1
    assert inbox.get(fresh_id) is not None


@pytest.mark.parametrize("include_dead", [False, True])
def test_purge_refuses_an_age_inside_the_dedupe_retention_unless_forced(
    inbox: SqlInbox, include_dead: bool
) -> None:
    """A done entry is queued mode's dedupe record: purged inside the replay window, a replay
    of the captured delivery would be queued and handled again."""
    event_id = put(inbox)
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    inbox.complete(event_id, entry.lease_token or "")
    for age in (0, 300, DEFAULT_RETENTION_SECONDS - 1):
        with pytest.raises(ValueError, match=r"replay .* handled again.*force=True"):
            inbox.purge(older_than_seconds=age, include_dead=include_dead)
    assert inbox.get(event_id) is not None
    assert inbox.purge(older_than_seconds=DEFAULT_RETENTION_SECONDS) == 0
    assert inbox.purge(older_than_seconds=0, include_dead=include_dead, force=True) == 1


def test_list_shows_newest_first_and_filters_by_status(inbox: SqlInbox) -> None:
    first, second = put(inbox), put(inbox)
    assert [e.event_id for e in inbox.list()] == [second, first]
    entry = inbox.claim(lease_seconds=30)
    assert entry is not None
    inbox.complete(entry.event_id, entry.lease_token or "")
    assert [e.event_id for e in inbox.list(status="done")] == [first]
    assert inbox.list()[0].body is None  # listings carry no bodies


def test_concurrent_claimers_on_separate_connections_take_each_entry_once(
    inbox_url: str, inbox: SqlInbox
) -> None:
    """Two inbox objects stand for two worker processes."""
    ids = {put(inbox) for _ in range(120)}
    other = open_sync_inbox(inbox_url)
    taken: list[str] = []
    lock = threading.Lock()

    def drain(box: SqlInbox) -> None:
        while (entry := box.claim(lease_seconds=30)) is not None:
            with lock:
                taken.append(entry.event_id)
            box.complete(entry.event_id, entry.lease_token or "")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(drain, [inbox, other] * 3))
    other.close()
    assert Counter(taken) == Counter(dict.fromkeys(ids, 1))


def test_the_schema_version_is_recorded_once(inbox_url: str, inbox: SqlInbox) -> None:
    inbox.stats()
    again = open_sync_inbox(inbox_url)
    again.stats()
    rows = again._execute(
        lambda cur: cur.execute(f"SELECT version FROM {again.table}_schema").fetchall()
    )
    again.close()
    assert [tuple(r) for r in rows] == [(1,)]


def test_a_schema_newer_than_the_code_is_refused(inbox_url: str, inbox: SqlInbox) -> None:
    inbox.stats()
    inbox._execute(
        lambda cur: cur.execute(f"INSERT INTO {inbox.table}_schema (version) VALUES (99)")
    )
    newer = open_sync_inbox(inbox_url)
    try:
        with pytest.raises(RuntimeError, match="upgrade trove_webhooks"):
            newer.stats()
    finally:
        newer.close()


# --- ordering per namespace -------------------------------------------------------------


@pytest.fixture
def ordered(inbox_url: str) -> Iterator[SqlInbox]:
    box = open_sync_inbox(inbox_url + ("&" if "?" in inbox_url else "?") + "ordered=true")
    yield box
    box.close()


def test_ordered_mode_runs_a_namespace_one_event_at_a_time_oldest_first(ordered: SqlInbox) -> None:
    late = put(ordered, namespace="alice", created_at="2026-05-01T00:00:02.000Z")
    early = put(ordered, namespace="alice", created_at="2026-05-01T00:00:01.000Z")
    other = put(ordered, namespace="bob", created_at="2026-05-01T00:00:03.000Z")
    first = ordered.claim(lease_seconds=30)
    second = ordered.claim(lease_seconds=30)
    assert first is not None and first.event_id == early
    assert second is not None and second.event_id == other  # alice's next waits
    assert ordered.claim(lease_seconds=30) is None
    ordered.complete(early, first.lease_token or "")
    third = ordered.claim(lease_seconds=30)
    assert third is not None and third.event_id == late


def test_ordered_mode_holds_later_events_while_an_earlier_one_backs_off(ordered: SqlInbox) -> None:
    early = put(ordered, namespace="alice", created_at="2026-05-01T00:00:01.000Z")
    put(ordered, namespace="alice", created_at="2026-05-01T00:00:02.000Z")
    entry = ordered.claim(lease_seconds=30)
    assert entry is not None and entry.event_id == early
    ordered.fail(early, entry.lease_token or "", "bad", retry_in=60)
    assert ordered.claim(lease_seconds=30) is None


def test_ordered_mode_lets_later_events_pass_a_dead_one(ordered: SqlInbox) -> None:
    early = put(ordered, namespace="alice", created_at="2026-05-01T00:00:01.000Z")
    late = put(ordered, namespace="alice", created_at="2026-05-01T00:00:02.000Z")
    entry = ordered.claim(lease_seconds=30)
    assert entry is not None
    ordered.fail(early, entry.lease_token or "", "bad", retry_in=None)
    nxt = ordered.claim(lease_seconds=30)
    assert nxt is not None and nxt.event_id == late
