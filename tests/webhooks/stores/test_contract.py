"""The idempotency-store contract, run against every backend and both twins.

``store_url`` (tests/conftest.py) is parametrised over memory, SQLite, Redis and PostgreSQL;
``twin`` over the sync and async classes. Redis and PostgreSQL are the real servers.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from trove_webhooks.stores import ClaimStatus, open_store, open_sync_store


class Twin:
    """Calls a sync or an async store through one awaitable face (test scaffolding only)."""

    def __init__(self, store: Any, is_async: bool) -> None:
        self.store = store
        self.is_async = is_async

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.store, method)(*args, **kwargs)
        return await result if self.is_async else result

    async def claim(self, event_id: str, lease: float = 30.0) -> Any:
        return await self.call("claim", event_id, lease_seconds=lease)

    async def close(self) -> None:
        await self.call("aclose" if self.is_async else "close")


def _with_option(url: str, option: str) -> str:
    return url + ("&" if "?" in url else "?") + option


@pytest.fixture(params=["sync", "async"])
async def make_store(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[Any]:
    opened: list[Twin] = []

    async def make(option: str | None = None) -> Twin:
        url = _with_option(store_url, option) if option else store_url
        is_async = request.param == "async"
        twin = Twin(open_store(url) if is_async else open_sync_store(url), is_async)
        opened.append(twin)
        return twin

    yield make
    for twin in opened:
        await twin.close()


def new_id() -> str:
    return f"evt-{uuid.uuid4().hex[:12]}"


async def test_first_claim_acquires_a_lease_with_a_token(make_store: Any) -> None:
    store = await make_store()
    claim = await store.claim(new_id())
    assert claim.status is ClaimStatus.ACQUIRED
    assert claim.token


async def test_a_second_claim_while_the_lease_is_held_is_in_flight(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    await store.claim(event_id, lease=30)
    second = await store.claim(event_id, lease=30)
    assert second.status is ClaimStatus.IN_FLIGHT
    assert 0 < second.retry_after <= 30
    assert 1 <= int(second.retry_after_header) <= 30


async def test_a_completed_event_claims_as_done(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    claim = await store.claim(event_id)
    await store.call("complete", event_id, claim.token)
    assert (await store.claim(event_id)).status is ClaimStatus.DONE


async def test_a_released_event_can_be_claimed_again(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    claim = await store.claim(event_id)
    await store.call("release", event_id, claim.token)
    assert (await store.claim(event_id)).status is ClaimStatus.ACQUIRED


async def test_release_with_another_holders_token_changes_nothing(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    await store.claim(event_id)
    await store.call("release", event_id, "not-the-token")
    assert (await store.claim(event_id)).status is ClaimStatus.IN_FLIGHT


async def test_an_expired_lease_lets_the_next_claim_acquire(make_store: Any) -> None:
    """A receiver that died mid-handler never releases; its lease runs out instead."""
    store = await make_store()
    event_id = new_id()
    await store.claim(event_id, lease=0.2)
    await asyncio.sleep(0.35)
    assert (await store.claim(event_id)).status is ClaimStatus.ACQUIRED


async def test_a_done_record_is_forgotten_after_the_retention_time(make_store: Any) -> None:
    store = await make_store("retention_seconds=0.3")
    event_id = new_id()
    claim = await store.claim(event_id)
    await store.call("complete", event_id, claim.token)
    assert (await store.claim(event_id)).status is ClaimStatus.DONE
    await asyncio.sleep(0.45)
    assert (await store.claim(event_id)).status is ClaimStatus.ACQUIRED


async def test_completing_after_the_lease_expired_still_records_done(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    first = await store.claim(event_id, lease=0.1)
    await asyncio.sleep(0.2)
    await store.call("complete", event_id, first.token)
    assert (await store.claim(event_id)).status is ClaimStatus.DONE


async def test_ping_answers_when_the_store_is_reachable(make_store: Any) -> None:
    store = await make_store()
    assert await store.call("ping") is None


async def test_a_hundred_concurrent_claims_acquire_exactly_once(make_store: Any) -> None:
    store = await make_store()
    event_id = new_id()
    if store.is_async:
        claims = await asyncio.gather(*(store.claim(event_id) for _ in range(100)))
    else:
        with ThreadPoolExecutor(max_workers=16) as pool:
            claims = list(
                pool.map(lambda _: store.store.claim(event_id, lease_seconds=30), range(100))
            )
    statuses = [c.status for c in claims]
    assert statuses.count(ClaimStatus.ACQUIRED) == 1
    assert statuses.count(ClaimStatus.IN_FLIGHT) == 99


async def test_two_store_objects_share_claims_exactly_when_the_backend_says_so(
    make_store: Any,
) -> None:
    """Sharing is what lets several receiver processes use one backend; memory cannot."""
    first, second = await make_store(), await make_store()
    event_id = new_id()
    claim = await first.claim(event_id)
    if not first.store.shared_across_processes:
        assert (await second.claim(event_id)).status is ClaimStatus.ACQUIRED
        return
    assert (await second.claim(event_id)).status is ClaimStatus.IN_FLIGHT
    await first.call("complete", event_id, claim.token)
    assert (await second.claim(event_id)).status is ClaimStatus.DONE


async def test_a_claim_takes_little_time(make_store: Any) -> None:
    """Sanity, not a benchmark: a claim is one round trip, not a poll."""
    store = await make_store()
    started = time.perf_counter()
    for _ in range(20):
        await store.claim(new_id())
    assert time.perf_counter() - started < 10


def test_the_async_store_serves_every_event_loop_that_uses_it(store_url: str) -> None:
    """Tests that each run their own loop (pytest-asyncio's default, or a TestClient per
    request) share one app and so one store: the second loop must not meet the first's
    connections, bound to a loop that has finished."""
    store = open_store(store_url)
    with warnings.catch_warnings():
        # The first loop ends with the store's connections open, as such tests leave them.
        warnings.simplefilter("ignore", ResourceWarning)
        first = asyncio.run(store.claim(new_id(), lease_seconds=30))
        second = asyncio.run(store.claim(new_id(), lease_seconds=30))
        asyncio.run(store.aclose())
        del store
        gc.collect()
    assert (first.status, second.status) == (ClaimStatus.ACQUIRED, ClaimStatus.ACQUIRED)


def test_an_event_loop_that_ends_without_closing_the_store_still_ends(store_url: str) -> None:
    """A test's loop may end (``asyncio.run`` cancelling every task) while the store's pool
    is still opening connections; the loop must finish rather than wait for ever."""

    def one_loop() -> None:
        store = open_store(store_url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            for _ in range(30):  # the race is narrow: give it many chances
                asyncio.run(store.claim(new_id(), lease_seconds=30))

    runner = threading.Thread(target=one_loop, daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "an event loop never finished: a store task ignored its end"
