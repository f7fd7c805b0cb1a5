"""Test helpers: auth headers, a real webhook receiver, polling, sandbox requirements."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

REQUIRE_SANDBOX = os.environ.get("TROVE_TEST_REQUIRE_SANDBOX") == "1"


def headers(key: str, namespace: str | None = None) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}"}
    if namespace is not None:
        out["X-Namespace"] = namespace
    return out


def host_processes_matching(marker: str) -> list[int]:
    """Pids of live processes (seen from the host, whatever their pid namespace) whose
    command line contains ``marker``; a zombie's command line is empty, so it does not count."""
    return [pid for pid, argv in _host_command_lines() if marker.encode() in b"\0".join(argv)]


def host_processes_named(name: str) -> list[int]:
    """Pids of live processes whose ``argv[0]`` is ``name`` (``exec -a name ...``)."""
    return [pid for pid, argv in _host_command_lines() if argv[0] == name.encode()]


def _host_command_lines() -> Iterator[tuple[int, list[bytes]]]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline:
            yield int(entry), cmdline.rstrip(b"\0").split(b"\0")


def require_bwrap(isolation: str) -> None:
    if isolation != "bwrap":
        if REQUIRE_SANDBOX:
            pytest.fail("bubblewrap is unusable but CI requires it (TROVE_TEST_REQUIRE_SANDBOX=1)")
        pytest.skip("bubblewrap is not usable here")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


class Receiver:
    """A real HTTP server that records every POST; ``replies`` scripts the answers (the
    default answer is 204)."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply()
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, time.monotonic())
                    )
                    receiver._lock.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @classmethod
    def on_port(cls, port: int) -> Receiver:
        return cls(port)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} deliveries, got {len(self.requests)} in {timeout}s"
                    )
                self._lock.wait(left)
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class EventStreamReader:
    """Reads a server-sent-events response in a thread; ``next_block`` returns parsed blocks
    (``{"id", "event", "data", "comments"}``) or fails after a timeout."""

    def __init__(self, url: str, request_headers: dict[str, str], **params: str) -> None:
        import queue

        self.lines: queue.Queue[str | None] = queue.Queue()
        self.status: int | None = None
        self.content_type = ""
        self.error_body = ""
        self._opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(
            target=self._read, args=(url, request_headers, params), daemon=True
        )
        self._thread.start()
        if not self._opened.wait(10):
            raise AssertionError("the stream did not answer")

    def _read(self, url: str, request_headers: dict[str, str], params: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=request_headers, params=params) as r:
                self._response = r
                self.status = r.status_code
                self.content_type = r.headers.get("content-type", "")
                if r.status_code != 200:
                    self.error_body = r.read().decode()
                self._opened.set()
                for line in r.iter_lines():
                    self.lines.put(line)
        except Exception:  # closed from the test thread, or the server went away
            pass
        finally:
            self._opened.set()
            self.lines.put(None)

    def next_block(self, timeout: float = 10.0) -> dict[str, Any]:
        import queue

        block: dict[str, Any] = {"comments": []}
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no complete event block within {timeout}s") from None
            if line is None:
                raise AssertionError("the stream ended")
            if line == "":
                if len(block) > 1 or block["comments"]:
                    return block
                continue
            if line.startswith(":"):
                block["comments"].append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            block[name] = value[1:] if value.startswith(" ") else value

    def events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The next ``count`` event blocks, skipping keep-alive comments."""
        found = []
        while len(found) < count:
            block = self.next_block(timeout)
            if "data" in block:
                found.append(block)
        return found

    def close(self) -> None:
        """Stop reading; the reader thread notices at the next keep-alive and ends."""
        if self._response is not None:
            self._response.close()
        self._client.close()
