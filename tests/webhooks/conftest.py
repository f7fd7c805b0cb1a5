"""Fixtures for the receiver kit: a recording router and clients for the ASGI and WSGI twins."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from trove_webhooks import DeliveryContext, WebhookRouter, create_app
from trove_webhooks.testing import SignedDelivery
from trove_webhooks.wsgi import create_wsgi_app

SECRET = "trove-whsec-7f3a0c9e1b2d4f6a8c0e2b4d6f8a1c3e"
OLD_SECRET = "trove-whsec-0123456789abcdef0123456789abcdef"


class Recorder:
    """A router whose handlers record what they saw; ``fail_times`` makes them raise first."""

    def __init__(self, fail_times: int = 0) -> None:
        self.router = WebhookRouter()
        self.calls: list[tuple[Any, DeliveryContext]] = []
        self.fail_times = fail_times
        self._lock = threading.Lock()

        @self.router.on_any
        def record(event: Any, context: DeliveryContext) -> None:
            with self._lock:
                self.calls.append((event, context))
                if len(self.calls) <= self.fail_times:
                    raise RuntimeError("handler failed on purpose")

    @property
    def event_ids(self) -> list[str]:
        return [event.id for event, _ in self.calls]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def post(client: httpx.Client, delivery: SignedDelivery, path: str = "/") -> httpx.Response:
    return client.post(path, content=delivery.body, headers=delivery.headers)


@pytest.fixture(params=["asgi", "wsgi"])
def make_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., httpx.Client]]:
    """Clients for ``create_app`` (async core) and ``create_wsgi_app`` (sync core) alike."""
    opened: list[tuple[httpx.Client, Any]] = []

    def make(router: WebhookRouter, **options: Any) -> httpx.Client:
        options.setdefault("secret", SECRET)
        client: httpx.Client
        app: Any = None
        if request.param == "asgi":
            client = TestClient(create_app(router, **options))
            client.__enter__()
        else:
            app = create_wsgi_app(router, **options)
            client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")
        opened.append((client, app))
        return client

    yield make
    for client, app in opened:
        if isinstance(client, TestClient):
            client.__exit__(None, None, None)
        else:
            client.close()
            app.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn serving an ASGI app on a free loopback port, in a thread (httpx's pattern)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# --- an inbox URL per backend: a SQLite file, and a fresh table in the real PostgreSQL ---


def drop_postgres_table(base: str, table: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_schema")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def inbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/inbox.db"
        return
    base = request.getfixturevalue("postgres_url")
    table = f"test_inbox_{uuid.uuid4().hex[:12]}"
    yield f"{base}?table={table}"
    drop_postgres_table(base, table)
