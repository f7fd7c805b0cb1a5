"""The Redis store: receivers on many hosts sharing one Redis.

``redis://host:6379/0`` or ``rediss://...``; ``?prefix=`` sets the key prefix (default
``trove:webhooks:``) and ``?timeout=`` how long to wait for Redis (default 5 s). Leases and
retention are key TTLs kept by the Redis server's clock, so hosts with skewed clocks still
agree on when a lease ends. redis-py pools connections and reconnects after a Redis restart;
while Redis is down every call raises ``StoreUnavailableError``.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from trove_webhooks._batching import LoopBatcher
from trove_webhooks._urls import mask_url, split_options
from trove_webhooks.errors import StoreUnavailableError
from trove_webhooks.stores.base import DEFAULT_RETENTION_SECONDS, Claim, ClaimStatus, new_token

try:
    import redis
    import redis.asyncio
    from redis.exceptions import RedisError, ResponseError
except ImportError:  # pragma: no cover - exercised only without the extra
    redis = None  # type: ignore[assignment]
    RedisError = ResponseError = OSError  # type: ignore[assignment,misc]

__all__ = ["AsyncRedisStore", "RedisStore"]

# Values: "r:<token>" while a lease is held, "d" once done. One script = one round trip and
# no window between reading the state and taking the lease.
CLAIM_LUA = """
local current = redis.call('GET', KEYS[1])
if not current or current == 'r:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'r:' .. ARGV[1], 'PX', ARGV[2])
  return {1, 0}
end
if current == 'd' then return {2, 0} end
return {3, redis.call('PTTL', KEYS[1])}
"""
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == 'r:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_STATUS = {1: ClaimStatus.ACQUIRED, 2: ClaimStatus.DONE, 3: ClaimStatus.IN_FLIGHT}


def _require_driver() -> None:
    if redis is None:
        raise ImportError("the Redis store needs the redis driver: pip install 'trove-sdk[redis]'")


class _RedisBase:
    """Key names, scripts and reply decoding for both twins."""

    shared_across_processes: ClassVar[bool] = True
    shared_across_hosts: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "trove:webhooks:",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        timeout: float = 5.0,
    ) -> None:
        _require_driver()
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self.url = url
        self.prefix = prefix
        self.retention_seconds = retention_seconds
        self._retention_ms = int(retention_seconds * 1000)
        self.timeout = timeout
        # Seconds to wait for Redis (connect or reply) before answering 503.
        self.client_options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "health_check_interval": 15,
        }

    @classmethod
    def _parse_url(cls, url: str) -> tuple[str, dict[str, Any]]:
        rest, options = split_options(url, ["prefix", "retention_seconds", "timeout"])
        kwargs: dict[str, Any] = {}
        if "prefix" in options:
            kwargs["prefix"] = options["prefix"]
        if "retention_seconds" in options:
            kwargs["retention_seconds"] = float(options["retention_seconds"])
        if "timeout" in options:
            kwargs["timeout"] = float(options["timeout"])
        return rest, kwargs

    def _key(self, event_id: str) -> str:
        return self.prefix + event_id

    @staticmethod
    def _decode_claim(reply: Any, token: str) -> Claim:
        status = _STATUS[int(reply[0])]
        if status is ClaimStatus.ACQUIRED:
            return Claim(status, token)
        if status is ClaimStatus.IN_FLIGHT:
            return Claim(status, retry_after=max(0, int(reply[1])) / 1000)
        return Claim(status)

    def _unavailable(self, exc: BaseException | str) -> StoreUnavailableError:
        return StoreUnavailableError(f"Redis store {mask_url(self.url)}: {exc}")


class RedisStore(_RedisBase):
    """Sync Redis store."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._redis = redis.Redis.from_url(url, **self.client_options)
        self._claim_script = self._redis.register_script(CLAIM_LUA)
        self._release_script = self._redis.register_script(RELEASE_LUA)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        rest, kwargs = cls._parse_url(url)
        return cls(rest, **kwargs)

    def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        token = new_token()
        try:
            reply = self._claim_script(
                keys=[self._key(event_id)], args=[token, int(lease_seconds * 1000)]
            )
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return self._decode_claim(reply, token)

    def complete(self, event_id: str, token: str) -> None:
        try:
            self._redis.set(self._key(event_id), "d", px=self._retention_ms)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    def release(self, event_id: str, token: str) -> None:
        try:
            self._release_script(keys=[self._key(event_id)], args=[token])
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    def ping(self) -> None:
        try:
            self._redis.ping()
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    def close(self) -> None:
        self._redis.close()


def _arg(value: bytes) -> bytes:
    """One argument in the Redis protocol (RESP): its length line, then its bytes."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _head(*args: bytes, total: int) -> bytes:
    """A command of ``total`` arguments up to its first variable one, packed once."""
    return b"*%d\r\n" % total + b"".join(_arg(a) for a in args)


class AsyncRedisStore(_RedisBase):
    """Async Redis store (redis.asyncio): concurrent commands go out together in one write.

    Each batch (see ``_batching``) is written to one pooled connection as a single buffer and
    its replies read back in order. Commands are packed here, their constant parts once:
    redis-py's pipeline spends longer per command on packing and bookkeeping than the rest of
    a delivery's handling takes.
    """

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        # One deadline per batch (below) instead of redis-py's own per write and per reply,
        # each of which costs a timer, the write a task of its own.
        self._async_options = {**self.client_options, "socket_timeout": None}
        self._redis = redis.asyncio.Redis.from_url(url, **self._async_options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batcher: LoopBatcher[bytes] = LoopBatcher(self._send_batch)
        self._prefix_bytes = self.prefix.encode()
        self._claim_head = _head(b"EVAL", CLAIM_LUA.encode(), b"1", total=6)
        self._release_head = _head(b"EVAL", RELEASE_LUA.encode(), b"1", total=5)
        self._complete_head = _head(b"SET", total=5)
        self._complete_tail = _arg(b"d") + _arg(b"PX") + _arg(b"%d" % self._retention_ms)

    @classmethod
    def from_url(cls, url: str) -> AsyncRedisStore:
        rest, kwargs = cls._parse_url(url)
        return cls(rest, **kwargs)

    def _key_arg(self, event_id: str) -> bytes:
        return _arg(self._prefix_bytes + event_id.encode())

    def _client(self) -> Any:
        """The client for the running loop. Its connections belong to the loop that opened
        them: a store used from a new loop (tests that each run their own, around one app)
        starts a fresh client there instead of failing on a closed loop."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._redis = redis.asyncio.Redis.from_url(self.url, **self._async_options)
            self._loop = loop
        return self._redis

    async def _send_batch(self, commands: list[bytes]) -> list[Any]:
        try:
            return await asyncio.wait_for(self._exchange(commands), self.timeout)
        except asyncio.TimeoutError:
            raise redis.exceptions.TimeoutError(f"no reply within {self.timeout:g}s") from None

    async def _exchange(self, commands: list[bytes]) -> list[Any]:
        pool = self._client().connection_pool
        try:
            conn = await pool.get_connection()
        except TypeError:  # redis-py before 5.3 wants a command name it never uses
            conn = await pool.get_connection("EVAL")
        try:
            await conn.send_packed_command(b"".join(commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await conn.read_response())
                except ResponseError as exc:  # an error reply: that command's, the rest stand
                    replies.append(exc)
        except BaseException:
            # Replies may still be on the wire: this connection is out of step for good.
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)
        return replies

    async def claim(self, event_id: str, *, lease_seconds: float) -> Claim:
        token = new_token()
        lease_ms = b"%d" % int(lease_seconds * 1000)
        command = self._claim_head + self._key_arg(event_id) + _arg(token.encode()) + _arg(lease_ms)
        try:
            reply = await self._batcher.submit(command)
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return self._decode_claim(reply, token)

    async def complete(self, event_id: str, token: str) -> None:
        command = self._complete_head + self._key_arg(event_id) + self._complete_tail
        try:
            await self._batcher.submit(command)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def release(self, event_id: str, token: str) -> None:
        command = self._release_head + self._key_arg(event_id) + _arg(token.encode())
        try:
            await self._batcher.submit(command)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def ping(self) -> None:
        try:
            await asyncio.wait_for(self._client().ping(), self.timeout)
        except asyncio.TimeoutError:
            raise self._unavailable(f"no reply within {self.timeout:g}s") from None
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def aclose(self) -> None:
        if self._loop in (None, asyncio.get_running_loop()):
            await self._redis.aclose()
        # else: its connections belong to a finished loop and cannot be closed from this one
