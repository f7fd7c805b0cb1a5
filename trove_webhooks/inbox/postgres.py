"""The PostgreSQL inbox: receivers and workers on many hosts, claims by ``SKIP LOCKED``.

``postgresql://user:pass@host/db`` (``?table=``, ``?ordered=true``, ``?timeout=``). Workers
never wait on each other's row locks: a locked candidate is skipped and the next one taken.
Lease ends and due times are read from the database's clock, never a host's: a host whose
clock runs ahead would otherwise see live leases as run out and take their events.
A connection broken by a database restart is dropped and the operation retried once on a
fresh one; while the database is down every call raises ``StoreUnavailableError`` (→ 503).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from trove_webhooks._urls import mask_url, split_options
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.inbox.base import SqlInbox
from trove_webhooks.inbox.migrations import SCHEMA_TABLE_SUFFIX, pending_migrations
from trove_webhooks.stores.postgres import POOL_TIMEOUT, pool_kwargs, require_psycopg

__all__ = ["PostgresInbox"]

T = TypeVar("T")

# The database's clock, as the idempotency store reads it, but at the start of the statement
# (statement_timestamp(), stable) rather than clock_timestamp() (volatile): every inbox call is
# one statement, and a stable "now" lets the claim's "due by now" range use the index instead
# of filtering every pending and running row at each poll.
NOW = "extract(epoch from statement_timestamp())"


class PostgresInbox(SqlInbox):
    """Sync PostgreSQL inbox over a psycopg connection pool (thread-safe)."""

    shared_across_hosts: ClassVar[bool] = True
    placeholder: ClassVar[str] = "%s"
    blob_type: ClassVar[str] = "BYTEA"
    real_type: ClassVar[str] = "DOUBLE PRECISION"
    seq_column: ClassVar[str] = "seq BIGSERIAL PRIMARY KEY"
    claim_lock: ClassVar[str] = " FOR UPDATE SKIP LOCKED"
    now_sql: ClassVar[str | None] = NOW

    def __init__(
        self, url: str, *, timeout: float = POOL_TIMEOUT, max_connections: int = 10, **options: Any
    ) -> None:
        require_psycopg()
        import psycopg
        import psycopg_pool

        super().__init__(**options)
        self.url = url
        self._errors = (psycopg.OperationalError, psycopg_pool.PoolTimeout)
        self._pool_timeout = psycopg_pool.PoolTimeout
        self._pool = psycopg_pool.ConnectionPool(url, **pool_kwargs(max_connections, timeout))
        self._pool.open(wait=False)
        self._migrated = False

    @classmethod
    def from_url(cls, url: str) -> PostgresInbox:
        rest, options = split_options(url, ["table", "ordered", "timeout", "max_connections"])
        kwargs: dict[str, Any] = {
            "table": options.get("table", "trove_webhook_inbox"),
            "ordered": options.get("ordered", "").lower() in ("1", "true", "yes"),
        }
        if "timeout" in options:
            kwargs["timeout"] = float(options["timeout"])
        if "max_connections" in options:
            kwargs["max_connections"] = int(options["max_connections"])
        return cls(rest, **kwargs)

    def _migrate(self, conn: Any) -> None:
        meta = self.table + SCHEMA_TABLE_SUFFIX
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"inbox:{self.table}",))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {meta} (version INTEGER NOT NULL)")
            row = conn.execute(f"SELECT MAX(version) FROM {meta}").fetchone()  # noqa: S608
            for version, statements in pending_migrations(self.migrations(), row[0] or 0):
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {meta} (version) VALUES (%s)", (version,))  # noqa: S608
        self._migrated = True

    def _execute(self, work: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    if not self._migrated:
                        self._migrate(conn)
                    # Every inbox operation is one statement: in autocommit mode it is its
                    # own transaction, one round trip instead of BEGIN, statement, COMMIT.
                    with conn.cursor() as cur:
                        return work(cur)
            except self._errors as exc:
                if attempt == 2 or isinstance(exc, self._pool_timeout):
                    raise StoreUnavailableError(
                        f"PostgreSQL inbox {mask_url(self.url)}: {exc}"
                    ) from exc
                # After a database restart every pooled connection is dead: drop them all
                # before the retry, rather than meeting them one failed request at a time.
                self._pool.check()
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._pool.close()
