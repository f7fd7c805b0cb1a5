"""Fixtures every test package shares.

Tests that need a real service (Redis, PostgreSQL, bubblewrap, Chromium) skip when it is
missing on a developer's machine, but CI sets ``TROVE_TEST_REQUIRE_SERVICES=1`` and then a
missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

# A suite started in the background by a non-interactive shell (`python3 dev.py test &`)
# inherits SIGINT as ignored, and so would every `trove` process the tests start — whose
# Ctrl-C behaviour several tests check. A Python handler here makes children start with the
# default disposition again (only an *ignored* signal survives exec).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REQUIRE_SERVICES = os.environ.get("TROVE_TEST_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("TROVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "TROVE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def unavailable(what: str) -> None:
    """Skip locally; fail in CI, where every service must be present."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required in CI (TROVE_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(f"{what} is not available")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _reachable(REDIS_URL):
        unavailable(f"Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not _reachable(POSTGRES_URL):
        unavailable(f"PostgreSQL at {POSTGRES_URL}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        unavailable("bubblewrap (bwrap)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        unavailable("Debian chromium")
    assert path is not None
    return path


@pytest.fixture
def trove_home(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An isolated ``TROVE_HOME`` (CLI profiles, local server data) and no ``TROVE_*`` env."""
    home = os.path.join(tmp_path, "trove-home")
    for name in list(os.environ):
        if name.startswith("TROVE_") and not name.startswith("TROVE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TROVE_HOME", home)
    yield home


# --- trove_webhooks: signed deliveries, and one store URL per backend ---------------------


@pytest.fixture
def signed_delivery() -> object:
    """``trove_webhooks.testing.signed_delivery``: build a signed delivery of any event type."""
    from trove_webhooks.testing import signed_delivery as build

    return build


STORE_BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A fresh idempotency-store URL per backend, so one contract suite runs against each.

    Redis keys get a unique prefix and PostgreSQL a unique table; both are removed afterwards.
    """
    import uuid

    unique = uuid.uuid4().hex[:12]
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{os.path.join(tmp_path, 'claims.db')}"
    elif request.param == "redis":
        import redis

        base = request.getfixturevalue("redis_url")
        prefix = f"test:{unique}:"
        yield f"{base}?prefix={prefix}"
        client = redis.Redis.from_url(base)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    else:
        import psycopg

        base = request.getfixturevalue("postgres_url")
        table = f"test_claims_{unique}"
        yield f"{base}?table={table}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


# --- the local Trove server (trove_server) ------------------------------------------------
# One real server for the whole session, over real HTTP on a free port. Fast retries and a
# short keep-alive so delivery and stream tests finish in seconds. Other packages' tests use
# these names: keep them stable.

REQUIRE_SANDBOX = os.environ.get("TROVE_TEST_REQUIRE_SANDBOX") == "1"
TEST_SERVER_SETTINGS = {
    "retry_schedule": (0.05, 0.1, 0.2),
    "sse_keepalive": 1.0,
    "delivery_timeout": 5.0,
}


@pytest.fixture(scope="session")
def trove_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running ``trove_server`` (``trove_server.testing.ServerHandle``): ``base_url``,
    ``workspace_id``, ``admin_key``, ``api_key``, ``create_key()``, ``create_workspace()``."""
    from trove_server.testing import run_server

    with run_server(
        tmp_path_factory.mktemp("trove-server"),
        require_sandbox=REQUIRE_SANDBOX,
        **TEST_SERVER_SETTINGS,
    ) as server:
        yield server


@pytest.fixture
def namespace() -> str:
    """A fresh namespace name for this test."""
    import uuid

    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(trove_server: Any, namespace: str) -> Iterator[Any]:
    """A ``TroveClient`` for ``namespace`` with the session server's unscoped workspace key."""
    from trove_sdk import TroveClient

    with TroveClient(
        trove_server.api_key,
        namespace,
        base_url=trove_server.base_url,
        workspace_id=trove_server.workspace_id,
    ) as sync_client:
        yield sync_client


@pytest.fixture
async def async_client(trove_server: Any, namespace: str) -> AsyncIterator[Any]:
    """The ``AsyncTroveClient`` twin of ``client``."""
    from trove_sdk import AsyncTroveClient

    async with AsyncTroveClient(
        trove_server.api_key,
        namespace,
        base_url=trove_server.base_url,
        workspace_id=trove_server.workspace_id,
    ) as twin:
        yield twin


@pytest.fixture
def admin_client(trove_server: Any) -> Iterator[Any]:
    """A ``TroveAdminClient`` with the session server's admin key."""
    from trove_sdk import TroveAdminClient

    with TroveAdminClient(
        trove_server.admin_key, trove_server.workspace_id, base_url=trove_server.base_url
    ) as admin:
        yield admin


@pytest.fixture
def receiver() -> Iterator[Any]:
    """A real HTTP server recording webhook deliveries (answers 204 unless scripted)."""
    from tests.server.support import Receiver

    r = Receiver()
    try:
        yield r
    finally:
        r.close()
