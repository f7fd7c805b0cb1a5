"""The PostgreSQL store: receivers on many hosts sharing one database.

``postgresql://user:pass@host:5432/db``; ``?table=`` names the table (optionally
``schema.table``) and ``?timeout=`` how long to wait for a connection (default 5 s). Lease
times come from the database's clock so hosts agree on them. A pool keeps connections; a
connection broken by a database restart is discarded and the operation tried once more on a
fresh one, so a restart costs at most the requests made while it is down (they get
``StoreUnavailableError`` → 503).
"""

# Table names are checked by safe_identifier() before they reach statement text.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from trove_webhooks._urls import mask_url, safe_identifier, split_options
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.stores.base import (
    DEFAULT_RETENTION_SECONDS,
    SWEEP_EVERY,
    Claim,
    ClaimStatus,
    new_token,
)

try:
    import psycopg
    import psycopg_pool
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]
    psycopg_pool = None  # type: ignore[assignment]

__all__ = ["AsyncPostgresStore", "PostgresStore", "pool_kwargs", "require_psycopg"]

T = TypeVar("T")
NOW = "extract(epoch from clock_timestamp())"
CONNECT_TIMEOUT = 5
POOL_TIMEOUT = 5.0


def require_psycopg() -> None:
    if psycopg is None or psycopg_pool is None:
        raise ImportError("the PostgreSQL backend needs psycopg: pip install 'trove-sdk[postgres]'")


def pool_kwargs(max_size: int, timeout: float = POOL_TIMEOUT) -> dict[str, Any]:
    """Pool settings both stores and the inbox use: small, quick to give up, never blocking."""
    return {
        "min_size": 1,
        "max_size": max_size,
        "timeout": timeout,
        "open": False,
        "kwargs": {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
        # The pool's reconnection backs off exponentially without a cap; giving up after a
        # few seconds makes the next request start afresh, so service resumes as soon as the
        # database is back rather than after a backoff as long as the outage was.
        "reconnect_timeout": 5.0,
    }


class _PostgresBase:
    """Statement text and reply decoding for both twins."""

    shared_across_processes: ClassVar[bool] = True
    shared_across_hosts: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        table: str = "trove_webhook_claims",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        max_connections: int = 10,
        timeout: float = POOL_TIMEOUT,
    ) -> None:
        require_psycopg()
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self.url = url
        self.table = safe_identifier(table, "table")
        self.retention_seconds = retention_seconds
        self.max_connections = max_connections
        self.timeout = timeout  # seconds to wait for a connection before giving up (→ 503)
        self._writes = 0
        t = self.table
        index = t.replace(".", "_") + "_expires"
        self._schema = (
            f"CREATE TABLE IF NOT EXISTS {t} (event_id text PRIMARY KEY, state text NOT NULL, "
            "token text NOT NULL, expires_at double precision NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)",
        )
        self._claim_sql = (
            f"INSERT INTO {t} AS c (event_id, state, token, expires_at) "
            f"VALUES (%s, 'running', %s, {NOW} + %s) ON CONFLICT (event_id) DO UPDATE SET "
            "state = 'running', token = excluded.token, expires_at = excluded.expires_at "
            f"WHERE c.expires_at <= {NOW} OR c.token = excluded.token RETURNING token"
        )
        self._state_sql = f"SELECT state, expires_at - {NOW} FROM {t} WHERE event_id = %s"
        self._complete_sql = (
            f"INSERT INTO {t} AS c (event_id, state, token, expires_at) "
            f"VALUES (%s, 'done', %s, {NOW} + %s) ON CONFLICT (event_id) DO UPDATE SET "
            "state = 'done', token = excluded.token, expires_at = excluded.expires_at"
        )
        self._release_sql = (
            f"DELETE FROM {t} WHERE event_id = %s AND token = %s AND state = 'running'"
        )
        self._sweep_sql = f"DELETE FROM {t} WHERE expires_at <= {NOW}"

    @classmethod
    def _parse_url(cls, url: str) -> tuple[str, dict[str, Any]]:
        rest, options = split_options(
            url, ["table", "retention_seconds", "max_connections", "timeout"]
        )
        kwargs: dict[str, Any] = {}
        if "table" in options:
            kwargs["table"] = options["table"]
        if "retention_seconds" in options:
            kwargs["retention_seconds"] = float(options["retention_seconds"])
        if "max_connections" in options:
            kwargs["max_connections"] = int(options["max_connections"])
        if "timeout" in options:
            kwargs["timeout"] = float(options["timeout"])
        return rest, kwargs

    def _lock_key(self) -> str:
        return f"trove_webhooks:{self.table}"

    def _decode_state(self, row: Any) -> Claim:
        if row is None:  # released between our insert attempt and the read: try again later
            return Claim(ClaimStatus.IN_FLIGHT, retry_after=1.0)
        state, remaining = row
        if state == "done":
            return Claim(ClaimStatus.DONE)
        return Claim(ClaimStatus.IN_FLIGHT, retry_after=max(0.0, float(remaining)))

    def _count_write(self) -> bool:
        self._writes += 1
        return self._writes % SWEEP_EVERY == 0

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"PostgreSQL store {mask_url(self.url)}: {exc}")


def _transient() -> tuple[type[BaseException], ...]:
    """Errors that mean "the database is unreachable"; only called once psycopg imported."""
    return (psycopg.OperationalError, psycopg_pool.PoolTimeout)


class PostgresStore(_PostgresBase):
    """Sync PostgreSQL store (psycopg 3 + psycopg_pool)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._pool = psycopg_pool.ConnectionPool(
            url, **pool_kwargs(self.max_connections, self.timeout)
        )
        self._pool.open(wait=False)
        self._ready = False

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        rest, kwargs = cls._parse_url(url)
        return cls(rest, **kwargs)

    def _run(self, work: Callable[[Any], T]) -> T:
        """Run ``work(conn)`` in a transaction; once more on a fresh connection if it broke."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    if not self._ready:
                        self._migrate(conn)
                    with conn.transaction():
                        return work(conn)
            except _transient() as exc:
                if attempt == 2 or isinstance(exc, psycopg_pool.PoolTimeout):
                    raise self._unavailable(exc) from exc
                # After a database restart every pooled connection is dead: drop them all
                # before the retry, rather than meeting them one failed request at a time.
                self._pool.check()
        raise AssertionError("unreachable")  # pragma: no cover

    def _migrate(self, conn: Any) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_key(),))
            for statement in self._schema:
                conn.execute(statement)
        self._ready = True

    def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        token = new_token()

        def work(conn: Any) -> Claim:
            row = conn.execute(self._claim_sql, (event_id, token, lease_seconds)).fetchone()
            if row is not None:
                return Claim(ClaimStatus.ACQUIRED, token)
            return self._decode_state(conn.execute(self._state_sql, (event_id,)).fetchone())

        return self._run(work)

    def complete(self, event_id: str, token: str) -> None:
        def work(conn: Any) -> None:
            conn.execute(self._complete_sql, (event_id, token, self.retention_seconds))
            if self._count_write():
                conn.execute(self._sweep_sql)

        self._run(work)

    def release(self, event_id: str, token: str) -> None:
        self._run(lambda conn: conn.execute(self._release_sql, (event_id, token)))

    def ping(self) -> None:
        self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    def close(self) -> None:
        self._pool.close()


class AsyncPostgresStore(_PostgresBase):
    """Async PostgreSQL store (psycopg 3 + psycopg_pool)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._pool: Any = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_guard: asyncio.Task[None] | None = None
        self._ready = False

    @classmethod
    def from_url(cls, url: str) -> AsyncPostgresStore:
        rest, kwargs = cls._parse_url(url)
        return cls(rest, **kwargs)

    async def _get_pool(self) -> Any:
        # The async pool belongs to the loop it was opened in: a new loop (tests that each
        # run their own, around one app) gets a new pool rather than one bound to a closed loop.
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            self._pool = psycopg_pool.AsyncConnectionPool(
                self.url, **pool_kwargs(self.max_connections, self.timeout)
            )
            self._pool_loop = loop
            await self._pool.open(wait=False)
            self._pool_guard = loop.create_task(_close_when_cancelled(self._pool))
        return self._pool

    async def _run(self, work: Callable[[Any], Any]) -> Any:
        pool = await self._get_pool()
        for attempt in (1, 2):
            try:
                async with pool.connection() as conn:
                    if not self._ready:
                        async with conn.transaction():
                            await conn.execute(
                                "SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_key(),)
                            )
                            for statement in self._schema:
                                await conn.execute(statement)
                        self._ready = True
                    async with conn.transaction():
                        return await work(conn)
            except _transient() as exc:
                if attempt == 2 or isinstance(exc, psycopg_pool.PoolTimeout):
                    raise self._unavailable(exc) from exc
                await pool.check()  # drop every connection a restart has broken
        raise AssertionError("unreachable")  # pragma: no cover

    async def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        token = new_token()

        async def work(conn: Any) -> Claim:
            cur = await conn.execute(self._claim_sql, (event_id, token, lease_seconds))
            if await cur.fetchone() is not None:
                return Claim(ClaimStatus.ACQUIRED, token)
            cur = await conn.execute(self._state_sql, (event_id,))
            return self._decode_state(await cur.fetchone())

        result: Claim = await self._run(work)
        return result

    async def complete(self, event_id: str, token: str) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(self._complete_sql, (event_id, token, self.retention_seconds))
            if self._count_write():
                await conn.execute(self._sweep_sql)

        await self._run(work)

    async def release(self, event_id: str, token: str) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(self._release_sql, (event_id, token))

        await self._run(work)

    async def ping(self) -> None:
        async def work(conn: Any) -> None:
            await conn.execute("SELECT 1")

        await self._run(work)

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None  # a later call opens a new pool
        # A pool opened by another, finished loop cannot be closed from this one.
        if pool is not None and self._pool_loop is asyncio.get_running_loop():
            await pool.close()
            if self._pool_guard is not None:
                self._pool_guard.cancel()


async def _close_when_cancelled(pool: Any) -> None:
    """Close ``pool`` when its event loop ends without ``aclose()`` (``asyncio.run`` cancels
    every task at its end, this one too).

    A pool must be closed, not cancelled: a psycopg_pool worker cancelled while it opens a
    connection swallows the cancellation and waits for its next job for ever, and the
    loop's shutdown with it. ``close()`` hands each worker the job that stops it.
    """
    try:
        await asyncio.Event().wait()
    finally:
        await pool.close()
