"""Redis and PostgreSQL going away and coming back, as seen through a cuttable TCP proxy.

While the store is down every delivery is a 503 (never a 2xx, never a handler run); once it is
back the same receiver object serves again, and what was recorded before the outage holds.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.webhooks.conftest import SECRET, Recorder
from tests.webhooks.tcp_proxy import TcpProxy
from trove_webhooks import Receiver, create_app
from trove_webhooks.testing import signed_delivery

RECOVERY_SECONDS = 10


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def proxied_store(request: pytest.FixtureRequest) -> Iterator[tuple[TcpProxy, str]]:
    """(proxy, store URL through the proxy) for a fresh Redis prefix or PostgreSQL table."""
    unique = uuid.uuid4().hex[:12]
    base = request.getfixturevalue(f"{request.param}_url")
    option = f"prefix=test:{unique}:" if request.param == "redis" else f"table=test_outage_{unique}"
    parts = urlsplit(base)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 0).up()
    yield proxy, f"{through(proxy, base)}?{option}&timeout=1"
    proxy.down()
    if request.param == "postgres":
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS test_outage_{unique}")
    else:
        import redis

        client = redis.Redis.from_url(base)
        for key in client.scan_iter(f"test:{unique}:*"):
            client.delete(key)
        client.close()


async def test_the_async_app_answers_503_while_the_store_is_down_and_recovers(
    proxied_store: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied_store
    recorder = Recorder()
    app = create_app(recorder.router, secret=SECRET, store=url)
    before, during = (signed_delivery("file.written", secret=SECRET) for _ in range(2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def send(delivery: Any) -> httpx.Response:
            return await client.post("/", content=delivery.body, headers=delivery.headers)

        assert (await send(before)).json()["status"] == "processed"
        proxy.down()
        outage = await send(during)
        health = await client.get("/healthz")
        proxy.up()
        # The pool may still be backing off from its failed reconnects: a sender's retries
        # get through within seconds.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while (after := await send(during)).status_code == 503:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        replay = await send(before)
        await app.state.receiver.aclose()
    assert outage.status_code == 503
    assert health.status_code == 503
    assert after.json()["status"] == "processed"
    assert replay.json()["status"] == "duplicate"
    assert recorder.event_ids == [before.event_id, during.event_id]


def test_the_sync_receiver_answers_503_while_the_store_is_down_and_recovers(
    proxied_store: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied_store
    recorder = Recorder()
    receiver = Receiver(recorder.router, secret=SECRET, store=url)
    before, during = (signed_delivery("file.written", secret=SECRET) for _ in range(2))
    try:
        assert receiver.receive(before.headers, before.body).status == 200
        proxy.down()
        outage = receiver.receive(during.headers, during.body)
        healthy = receiver.healthy()
        proxy.up()
        deadline = time.monotonic() + RECOVERY_SECONDS
        while (after := receiver.receive(during.headers, during.body)).status == 503:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        replay = receiver.receive(before.headers, before.body)
    finally:
        receiver.close()
    assert outage.status == 503
    assert healthy is False
    assert after.body["status"] == "processed"
    assert replay.body["status"] == "duplicate"
    assert recorder.event_ids == [before.event_id, during.event_id]
