"""The events feed and the resumable stream: paging, filters, reconnect without gap or repeat."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import respx

from tests.sdk.clock import instant_sleeps
from trove_sdk import (
    AsyncTroveAdminClient,
    FileWritten,
    TroveAdminClient,
    TroveAuthError,
    TroveClient,
    TroveError,
    sample_event,
)
from trove_sdk._feed import _STREAM_READ_TIMEOUT
from trove_sdk._sse import SSEDecoder, SSELineSplitter

BASE = "https://api.test"
WS = "ws-d69634745de7ce97"
STREAM = f"/v1/workspaces/{WS}/webhooks/stream"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    instant_sleeps(monkeypatch, "trove_sdk._feed_io")


def _event(n: int) -> dict[str, object]:
    return sample_event(
        "file.written",
        event_id=f"evt-{n:012d}",
        data={"path": f"workspace/{n}"},
        created_at=f"2026-04-30T00:00:{n:02d}.000Z",
    )


def _block(n: int) -> str:
    return f"id: {n}\nevent: file.written\ndata: {json.dumps(_event(n))}\n\n"


CONNECTED = 'event: connected\ndata: {"type": "connected"}\n\n'


def _sse(*parts: str) -> httpx.Response:
    return httpx.Response(200, text="".join(parts), headers={"content-type": "text/event-stream"})


def test_sse_decoder_joins_data_lines_skips_comments_and_keeps_the_last_id() -> None:
    decoder = SSEDecoder()
    lines = [": keep-alive", "id: 7", "event: x", "data: a", "data: b", "", "data: c", ""]
    events = [e for e in map(decoder.feed, lines) if e is not None]
    assert [(e.event, e.data, e.id) for e in events] == [("x", "a\nb", "7"), ("message", "c", "7")]


def test_sse_lines_end_only_at_cr_lf_or_crlf_even_across_chunks() -> None:
    splitter = SSELineSplitter()
    chunks = [b"data: a\r", b"\nid: 1\r", b"data: \xe2\x80", b"\xa8x\n\n"]
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    assert lines == ["data: a", "id: 1", "data: \u2028x", ""]


def test_a_streamed_event_whose_json_holds_unescaped_line_separators_arrives_whole() -> None:
    """U+2028/U+2029/U+0085 are legal unescaped in JSON; str.splitlines would cut there."""
    event = sample_event(
        "file.written", event_id="evt-000000000009", data={"path": "a\u2028b\u0085c"}
    )
    data = json.dumps(event, ensure_ascii=False)
    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        router.get(STREAM).mock(return_value=_sse(CONNECTED, f"id: 9\ndata: {data}\n\n"))
        got = next(client.stream_events(reconnect=False))
    assert got.event.data.path == "a\u2028b\u0085c"
    assert got.payload == data


def test_iter_events_walks_every_page_newest_first() -> None:
    pages = {
        None: {"events": [_event(3), _event(2)], "next_cursor": "c2"},
        "c2": {"events": [_event(1)], "next_cursor": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["limit"] == "200"
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        router.get(f"/v1/workspaces/{WS}/events").mock(side_effect=handler)
        ids = [e.id for e in client.iter_events()]
    assert ids == ["evt-000000000003", "evt-000000000002", "evt-000000000001"]


def test_a_runtime_client_finds_its_workspace_once_through_me() -> None:
    with respx.mock(base_url=BASE) as router, TroveClient("k", "alice", base_url=BASE) as client:
        me = router.get("/v1/me").respond(200, json={"workspace_id": WS})
        feed = router.get(f"/v1/workspaces/{WS}/events").respond(200, json={"events": []})
        client.list_events()
        client.list_events(namespace="alice")
    assert (me.call_count, feed.call_count) == (1, 2)
    assert "x-namespace" not in feed.calls[0].request.headers


def test_the_stream_resumes_after_a_disconnect_with_no_gap_and_no_duplicate() -> None:
    requests: list[httpx.Request] = []
    responses = iter(
        [
            _sse(CONNECTED, _block(1), _block(2)),  # then the connection drops
            httpx.Response(503),  # the server is restarting
            _sse(CONNECTED, _block(3)),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return next(responses)

    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        router.get(STREAM).mock(side_effect=handler)
        stream: Iterator = client.stream_events(types=["file.written"], namespace="alice")
        got = [next(stream) for _ in range(3)]
    assert [g.cursor for g in got] == ["1", "2", "3"]
    assert [g.event.id for g in got] == ["evt-000000000001", "evt-000000000002", "evt-000000000003"]
    assert isinstance(got[0].event, FileWritten)
    assert json.loads(got[0].payload) == _event(1)
    assert "last-event-id" not in requests[0].headers
    assert [r.headers.get("last-event-id") for r in requests[1:]] == ["2", "2"]
    assert all(r.url.params["types"] == "file.written" for r in requests)
    assert all(r.url.params["namespace"] == "alice" for r in requests)
    assert all(r.headers["accept"] == "text/event-stream" for r in requests)


def test_a_stream_started_from_a_cursor_sends_it() -> None:
    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        route = router.get(STREAM).mock(return_value=_sse(CONNECTED, _block(42)))
        assert next(client.stream_events(cursor="41")).cursor == "42"
    assert route.calls[0].request.headers["last-event-id"] == "41"


def test_a_rejected_key_ends_the_stream_instead_of_retrying_forever() -> None:
    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        route = router.get(STREAM).respond(401, json={"detail": "Invalid API key"})
        with pytest.raises(TroveAuthError, match="Invalid API key"):
            next(client.stream_events())
    assert route.call_count == 1


def test_a_non_sse_answer_is_a_clear_error() -> None:
    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        router.get(STREAM).respond(200, json={"events": []})
        with pytest.raises(TroveError, match="not an event stream"):
            next(client.stream_events())


def test_without_reconnect_a_dropped_stream_raises() -> None:
    with respx.mock(base_url=BASE) as router, TroveAdminClient("k", WS, base_url=BASE) as client:
        router.get(STREAM).mock(return_value=_sse(CONNECTED, _block(1)))
        stream = client.stream_events(reconnect=False)
        assert next(stream).cursor == "1"
        with pytest.raises(TroveError, match="closed"):
            next(stream)


async def test_the_async_stream_resumes_the_same_way() -> None:
    responses = iter([_sse(CONNECTED, _block(1)), _sse(CONNECTED, _block(2))])
    seen_ids: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_ids.append(request.headers.get("last-event-id"))
        return next(responses)

    async with AsyncTroveAdminClient("k", WS, base_url=BASE) as client:
        with respx.mock(base_url=BASE) as router:
            router.get(STREAM).mock(side_effect=handler)
            got = []
            async for item in client.stream_events():
                got.append(item.cursor)
                if len(got) == 2:
                    break
    assert got == ["1", "2"]
    assert seen_ids == [None, "1"]


def test_the_stream_waits_long_for_events_but_not_forever_nor_for_a_connection() -> None:
    """Reading waits well past the server's 15 s keep-alive (CONTRACT X1) but not for ever;
    connecting and sending keep the client's limit."""
    with (
        respx.mock(base_url=BASE) as router,
        TroveAdminClient("k", WS, base_url=BASE, timeout=7) as client,
    ):
        route = router.get(STREAM).mock(return_value=_sse(CONNECTED, _block(1)))
        next(client.stream_events())
    timeout = route.calls[0].request.extensions["timeout"]
    assert timeout["read"] == _STREAM_READ_TIMEOUT == 60.0
    assert timeout["read"] >= 4 * 15
    assert (timeout["connect"], timeout["write"], timeout["pool"]) == (7, 7, 7)


class StallingStreamServer:
    """A real socket server: each connection gets the SSE response head and its scripted
    blocks, then silence on an open socket — a half-open connection, as when a NAT or proxy
    dropped it. Records each request's head."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.requests: list[dict[str, str]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._connections: list[socket.socket] = []
        self._closing = threading.Event()
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for reply in self.replies:
            while not self._closing.is_set():
                try:
                    conn, _ = self._listener.accept()
                    break
                except TimeoutError:
                    continue
            else:
                return
            self._connections.append(conn)
            conn.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            lines = head.decode("latin-1").split("\r\n")[1:]
            self.requests.append(
                {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines) if k}
            )
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"cache-control: no-cache\r\n\r\n" + reply.encode()
            )

    def close(self) -> None:
        self._closing.set()
        self._thread.join(5)
        for conn in self._connections:
            conn.close()
        self._listener.close()


@pytest.fixture
def stalling() -> Iterator[StallingStreamServer]:
    server = StallingStreamServer([CONNECTED + _block(5), CONNECTED + _block(6)])
    try:
        yield server
    finally:
        server.close()


@pytest.mark.timeout(20)
def test_a_stalled_stream_reconnects_and_resumes_from_its_cursor(
    stalling: StallingStreamServer,
) -> None:
    """A connection that goes silent (no keep-alive either) ends in a read timeout, and the
    reconnection asks to resume after the last event: nothing lost, nothing repeated."""
    with TroveAdminClient("k", WS, base_url=stalling.base_url) as client:
        client._stream_read_timeout = 0.3
        stream = client.stream_events()
        got = [next(stream).cursor, next(stream).cursor]
        stream.close()
    assert got == ["5", "6"]
    assert "last-event-id" not in stalling.requests[0]
    assert stalling.requests[1]["last-event-id"] == "5"


@pytest.mark.timeout(20)
async def test_a_stalled_async_stream_reconnects_and_resumes_from_its_cursor(
    stalling: StallingStreamServer,
) -> None:
    async with AsyncTroveAdminClient("k", WS, base_url=stalling.base_url) as client:
        client._stream_read_timeout = 0.3
        stream = client.stream_events()
        got = [(await anext(stream)).cursor, (await anext(stream)).cursor]
        await stream.aclose()
    assert got == ["5", "6"]
    assert "last-event-id" not in stalling.requests[0]
    assert stalling.requests[1]["last-event-id"] == "5"
