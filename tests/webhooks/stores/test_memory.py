"""The in-process store's housekeeping: expired records go as new ones come, without a scan."""

from __future__ import annotations

from trove_webhooks.stores import ClaimStatus
from trove_webhooks.stores.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_records_past_their_retention_are_dropped_by_the_next_write() -> None:
    clock = Clock()
    store = MemoryStore(retention_seconds=300, clock=clock)
    for i in range(50):
        claim = store.claim(f"evt-{i}", lease_seconds=30)
        store.complete(f"evt-{i}", claim.token or "")
    assert store.size() == 50
    clock.now += 301
    store.claim("evt-new", lease_seconds=30)
    assert store.size() == 1


def test_a_lease_that_became_done_outlives_its_lease_marker() -> None:
    clock = Clock()
    store = MemoryStore(retention_seconds=300, clock=clock)
    claim = store.claim("evt-a", lease_seconds=30)
    store.complete("evt-a", claim.token or "")
    clock.now += 31  # the lease's expiry passes; the done record must stay
    store.claim("evt-b", lease_seconds=30)
    assert store.claim("evt-a", lease_seconds=30).status is ClaimStatus.DONE


def test_an_abandoned_lease_is_dropped_once_it_expires() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.claim("evt-crashed", lease_seconds=30)  # never completed nor released
    clock.now += 31
    store.claim("evt-other", lease_seconds=30)
    assert store.size() == 1
    assert store.claim("evt-crashed", lease_seconds=30).status is ClaimStatus.ACQUIRED


def test_a_lease_taken_again_after_it_expired_survives_the_sweep_of_the_old_one() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.claim("evt-a", lease_seconds=30)
    clock.now += 31
    assert store.claim("evt-a", lease_seconds=30).status is ClaimStatus.ACQUIRED
    store.claim("evt-b", lease_seconds=30)  # sweeps the first lease's queue entry
    assert store.claim("evt-a", lease_seconds=30).status is ClaimStatus.IN_FLIGHT


def test_a_longer_lease_queued_first_delays_a_sweep_but_never_drops_a_live_record() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.claim("evt-long", lease_seconds=100)
    store.claim("evt-short", lease_seconds=10)
    clock.now += 11
    store.claim("evt-other", lease_seconds=10)
    assert store.claim("evt-long", lease_seconds=10).status is ClaimStatus.IN_FLIGHT
    # The expired short lease may still be held, but it no longer blocks a claim.
    assert store.claim("evt-short", lease_seconds=10).status is ClaimStatus.ACQUIRED
