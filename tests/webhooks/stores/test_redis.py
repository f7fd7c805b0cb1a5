"""The async Redis store's own batch writer, against the real Redis.

Concurrent commands share one write and their replies come back in order; an error reply
belongs to its own command only, and the connection stays in step for the next batch.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from trove_webhooks import StoreUnavailableError
from trove_webhooks.stores import ClaimStatus, open_store
from trove_webhooks.stores.redis import AsyncRedisStore

pytestmark = pytest.mark.redis


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[AsyncRedisStore]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    opened = open_store(f"{redis_url}?prefix={prefix}")
    assert isinstance(opened, AsyncRedisStore)
    yield opened
    await opened.aclose()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


async def test_concurrent_claims_and_completions_each_get_their_own_reply(
    store: AsyncRedisStore,
) -> None:
    ids = [f"evt-{i}-é" for i in range(20)]  # non-ASCII ids are keys too
    claims = await asyncio.gather(*(store.claim(i, lease_seconds=30) for i in ids))
    assert [c.status for c in claims] == [ClaimStatus.ACQUIRED] * 20
    await asyncio.gather(
        *(store.complete(i, c.token or "") for i, c in zip(ids, claims, strict=True))
    )
    again = await asyncio.gather(*(store.claim(i, lease_seconds=30) for i in ids))
    assert [c.status for c in again] == [ClaimStatus.DONE] * 20


async def test_an_error_reply_fails_only_its_own_command(
    store: AsyncRedisStore, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.rpush(f"{store.prefix}evt-a-list", "not a claim")  # GET on a list: WRONGTYPE
    client.close()
    results = await asyncio.gather(
        store.claim("evt-a-list", lease_seconds=30),
        store.claim("evt-fine", lease_seconds=30),
        return_exceptions=True,
    )
    assert isinstance(results[0], StoreUnavailableError)
    assert "WRONGTYPE" in str(results[0])
    assert not isinstance(results[1], BaseException)
    assert results[1].status is ClaimStatus.ACQUIRED
    # The connection is still in step: the next batch reads its own replies.
    after = await store.claim("evt-fine", lease_seconds=30)
    assert after.status is ClaimStatus.IN_FLIGHT
    assert 0 < after.retry_after <= 30


async def test_a_release_frees_the_claim_only_for_its_token(store: AsyncRedisStore) -> None:
    first = await store.claim("evt-r", lease_seconds=30)
    await store.release("evt-r", "someone-else")
    assert (await store.claim("evt-r", lease_seconds=30)).status is ClaimStatus.IN_FLIGHT
    await store.release("evt-r", first.token or "")
    assert (await store.claim("evt-r", lease_seconds=30)).status is ClaimStatus.ACQUIRED


async def test_a_redis_that_never_answers_is_unavailable_within_the_timeout() -> None:
    """A host that accepts the connection and then says nothing (a hung Redis, a black-holed
    route): the claim gives up after ``?timeout=``, it does not hang the request."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing ever reads or replies
    port = silent.getsockname()[1]
    store = open_store(f"redis://127.0.0.1:{port}/0?timeout=0.3")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=r"no reply within 0\.3s"):
            await store.claim("evt-silent", lease_seconds=30)
        with pytest.raises(StoreUnavailableError):
            await store.ping()
        assert time.monotonic() - started < 5
    finally:
        await store.aclose()
        silent.close()
