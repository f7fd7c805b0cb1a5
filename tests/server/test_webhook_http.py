"""The delivery HTTP client against hand-written receivers that answer exactly as told."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from trove_server.webhook_http import DeliveryClient, DeliveryError, DeliveryTimeout

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    servers: list[asyncio.base_events.Server] = []

    writers: list[asyncio.StreamWriter] = []

    async def start(handler: Handler, tls: ssl.SSLContext | None = None) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            try:
                await handler(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(tracked, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}/hook"

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def client() -> AsyncIterator[DeliveryClient]:
    c = DeliveryClient(user_agent="test")
    yield c
    await c.close()


async def test_keep_alive_connections_are_reused(serve, client):
    connections = 0

    async def handler(reader, writer):
        nonlocal connections
        connections += 1
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    url = await serve(handler)
    for _ in range(3):
        assert (await client.post(url, b"{}", {}, timeout=5)).status == 204
    assert connections == 1


async def test_a_connection_the_receiver_closed_while_idle_is_replaced(serve, client):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive promised, then broken: the pooled socket goes stale

    url = await serve(handler)
    assert (await client.post(url, b"{}", {}, timeout=5)).status == 200
    await asyncio.sleep(0.05)
    assert (await client.post(url, b"{}", {}, timeout=5)).status == 200


async def test_the_request_carries_the_headers_and_body(serve, client):
    seen: list[bytes] = []

    async def handler(reader, writer):
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    url = await serve(handler)
    await client.post(url + "?x=1", b'{"a":1}', {"X-Trove-Event": "file.written"}, timeout=5)
    request = seen[0]
    assert request.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"\r\nX-Trove-Event: file.written\r\n" in request
    assert b"\r\nUser-Agent: test\r\n" in request
    assert request.endswith(b'\r\n\r\n{"a":1}')


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nfail",
        b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nfa\r\n2\r\nil\r\n0\r\n\r\n",
        b"HTTP/1.0 500 Oops\r\n\r\nfail",  # ends when the connection does
    ],
    ids=["content-length", "chunked", "close-delimited"],
)
async def test_every_body_framing_is_read(serve, client, answer):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(answer)
        await writer.drain()
        writer.close()

    response = await client.post(await serve(handler), b"{}", {}, timeout=5)
    assert (response.status, response.body) == (500, b"fail")


async def test_retry_after_and_other_headers_are_returned(serve, client):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    response = await client.post(await serve(handler), b"{}", {}, timeout=5)
    assert response.headers["retry-after"] == "7"


async def test_a_huge_answer_is_refused(serve, client):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 5_000_000)
        await writer.drain()

    with pytest.raises(DeliveryError, match="over"):
        await client.post(await serve(handler), b"{}", {}, timeout=5)


async def test_a_silent_receiver_times_out(serve, client):
    async def handler(reader, writer):
        await reader.read()  # never answers; returns when the client hangs up

    with pytest.raises(DeliveryTimeout, match=r"timed out after 0\.2s"):
        await client.post(await serve(handler), b"{}", {}, timeout=0.2)


async def test_garbage_is_a_delivery_error(serve, client):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        writer.close()

    with pytest.raises(DeliveryError, match="malformed"):
        await client.post(await serve(handler), b"{}", {}, timeout=5)


async def test_a_refused_connection_is_a_delivery_error(client):
    with pytest.raises(DeliveryError, match="ConnectError"):
        await client.post("http://127.0.0.1:9/hook", b"{}", {}, timeout=5)


async def test_non_ascii_in_the_url_path_is_percent_encoded(serve, client):
    seen: list[bytes] = []

    async def handler(reader, writer):
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    url = await serve(handler)
    assert (await client.post(url + "/€?q=é&r=%41", b"{}", {}, timeout=5)).status == 204
    assert seen[0].startswith(b"POST /hook/%E2%82%AC?q=%C3%A9&r=%41 HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:99999/x", "http://127.0.0.1:port/x", "http://" + "a" * 64 + ".test/"],
    ids=["port-out-of-range", "port-not-a-number", "label-too-long"],
)
async def test_an_unusable_url_is_a_delivery_error(client, url):
    with pytest.raises(DeliveryError, match="not a usable URL"):
        await client.post(url, b"{}", {}, timeout=5)


async def test_a_line_break_in_a_header_is_refused(client):
    with pytest.raises(DeliveryError, match="line break"):
        await client.post("http://127.0.0.1:9/", b"", {"X-Evil": "a\r\nInjected: 1"}, timeout=5)


async def test_an_untrusted_certificate_is_refused(serve, client, tmp_path: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    async def handler(reader, writer):
        writer.close()

    with pytest.raises(DeliveryError, match="TLS"):
        await client.post(await serve(handler, tls), b"{}", {}, timeout=5)
