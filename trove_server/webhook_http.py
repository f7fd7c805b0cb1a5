"""A small HTTP/1.1 client for webhook deliveries: one POST, a status, a few headers.

Deliveries are many small POSTs to a handful of receivers, where a general-purpose client's
pool bookkeeping dominates (httpx's async pool managed about 100–400 requests/s here, this
client several thousand). It keeps idle keep-alive connections per origin, parses responses
with ``httptools`` (the parser uvicorn uses), reads at most ``MAX_RESPONSE_BYTES`` of a
response (a receiver has no business sending more; the connection is dropped instead), never
follows redirects, ignores proxy variables, and verifies TLS with the system's CA store.

A reused connection that the receiver had already closed (its keep-alive timeout) shows up as
an immediate end of stream with no response; that one case is retried once on a fresh
connection — the request cannot have been processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httptools

__all__ = [
    "DeliveryClient",
    "DeliveryError",
    "DeliveryResponse",
    "DeliveryTimeout",
    "Target",
    "target_of",
]

MAX_RESPONSE_BYTES = 1 << 20
SNIPPET_BYTES = 2048
_READ_BYTES = 1 << 16
# Everything printable in ASCII stays as the user wrote it; the rest is percent-encoded.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


class DeliveryError(Exception):
    """The POST got no HTTP answer (connection refused, reset, malformed response)."""


class DeliveryTimeout(DeliveryError):
    """No complete answer within the timeout."""


@dataclass
class DeliveryResponse:
    status: int
    headers: dict[str, str]
    body: bytes  # the first SNIPPET_BYTES


@dataclass
class _Parsed:
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    size: int = 0
    headers_done: bool = False
    complete: bool = False

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        room = SNIPPET_BYTES - len(self.body)
        if room > 0:
            self.body += body[:room]

    def on_message_complete(self) -> None:
        self.complete = True


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class Target:
    """Where a URL's POST goes: ``origin`` (scheme, host, port) keys the pool."""

    origin: tuple[str, str, int]
    host_header: str
    request_target: str

    @property
    def secure(self) -> bool:
        return self.origin[0] == "https"


def target_of(url: str) -> Target:
    """Split a webhook URL; ``DeliveryError`` says why it cannot be sent to (also used to
    refuse it when the webhook is created)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"not an http(s) URL: {url!r}")
    hostname = parts.hostname
    try:
        port = parts.port  # raises for a port out of range or not a number
        if ":" not in hostname:
            hostname.encode("idna")  # a label over 63 characters, an empty label, ...
    except ValueError as exc:
        raise DeliveryError(f"not a usable URL ({exc}): {url!r}") from None
    secure = parts.scheme == "https"
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None:
        host += f":{port}"
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE)
    return Target(
        (parts.scheme, hostname, port or (443 if secure else 80)),
        host,
        path + (f"?{query}" if query else ""),
    )


class _StaleConnection(Exception):
    pass


class DeliveryClient:
    """POSTs with pooled keep-alive connections; ``close()`` when done."""

    def __init__(self, *, user_agent: str, max_idle_per_origin: int = 64) -> None:
        self._user_agent = user_agent
        self._max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout: float
    ) -> DeliveryResponse:
        target = target_of(url)
        lines = [
            f"POST {target.request_target} HTTP/1.1",
            f"Host: {target.host_header}",
            f"User-Agent: {self._user_agent}",
            f"Content-Length: {len(body)}",
            "Connection: keep-alive",
        ]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise DeliveryError(f"header {name!r} contains a line break")
            lines.append(f"{name}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            return await asyncio.wait_for(
                self._exchange(target.origin, request, target.secure), timeout
            )
        except asyncio.TimeoutError:
            raise DeliveryTimeout(f"timed out after {timeout:g}s") from None

    async def _exchange(
        self, origin: tuple[str, str, int], request: bytes, secure: bool
    ) -> DeliveryResponse:
        idle = self._idle.setdefault(origin, [])
        while idle:
            connection = idle.pop()
            if connection[1].is_closing():
                continue
            try:
                return await self._send(origin, connection, request, reused=True)
            except _StaleConnection:
                continue
        connection = await self._connect(origin, secure)
        try:
            return await self._send(origin, connection, request, reused=False)
        except _StaleConnection:
            raise DeliveryError("the receiver closed the connection without answering") from None

    async def _connect(self, origin: tuple[str, str, int], secure: bool) -> _Connection:
        _, host, port = origin
        try:
            return await asyncio.open_connection(
                host,
                port,
                ssl=self._tls_context() if secure else None,
                server_hostname=host if secure else None,
                limit=_READ_BYTES,
            )
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS error: {exc.reason or exc}") from None
        except OSError as exc:
            raise DeliveryError(f"ConnectError: {exc.strerror or exc}") from None

    async def _send(
        self,
        origin: tuple[str, str, int],
        connection: _Connection,
        request: bytes,
        *,
        reused: bool,
    ) -> DeliveryResponse:
        reader, writer = connection
        parsed = _Parsed()
        parser = httptools.HttpResponseParser(parsed)
        received = 0
        keep = False
        try:
            writer.write(request)
            await writer.drain()
            while not parsed.complete:
                data = await reader.read(_READ_BYTES)
                if not data:
                    if received == 0 and reused:
                        raise _StaleConnection
                    if not parsed.headers_done:
                        raise DeliveryError("the receiver closed the connection mid-answer")
                    break  # a body delimited by the connection's end: it ended
                received += len(data)
                if received > MAX_RESPONSE_BYTES:
                    raise DeliveryError(f"the answer is over {MAX_RESPONSE_BYTES} bytes")
                parser.feed_data(data)
            keep = parser.should_keep_alive()
        except (ConnectionError, BrokenPipeError) as exc:
            if received == 0 and reused:
                raise _StaleConnection from None
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        except httptools.HttpParserError as exc:
            raise DeliveryError(f"malformed HTTP answer: {exc}") from None
        finally:
            idle = self._idle.setdefault(origin, [])
            if keep and len(idle) < self._max_idle:
                idle.append(connection)
            else:
                writer.close()
        return DeliveryResponse(parser.get_status_code(), parsed.headers, bytes(parsed.body))

    async def close(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        self._idle.clear()
