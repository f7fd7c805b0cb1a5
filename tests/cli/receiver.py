"""A real webhook receiver for the CLI's tests: uvicorn on a free port, verifying every
delivery with ``trove_sdk.WebhookVerifier`` and recording what arrived, in order.

In-process (``serve`` + ``RecordingReceiver``) for the relay and trigger tests, and as a
process of its own (``python -m tests.cli.receiver --port P --secret S --log FILE``) for the
``listen`` end-to-end test, which kills and restarts it. The process appends one JSON line per
verified delivery to ``--log`` and flushes it *before* answering 200: what the log holds is
exactly what the receiver acknowledged (flushed to the OS, which keeps it when the
process is killed).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from trove_sdk import WebhookSignatureError, WebhookVerifier


@dataclass(frozen=True)
class Receipt:
    event_id: str
    event_type: str
    namespace: str | None
    headers: dict[str, str]
    body: bytes
    at: float


Decide = Callable[[Receipt, int], int]


class RecordingReceiver:
    """An ASGI app: 400 for a bad signature, else ``decide(receipt, attempt)`` (200 by
    default); every verified delivery is recorded, whatever the answer."""

    def __init__(self, secret: str | list[str], decide: Decide | None = None) -> None:
        self.verifier = WebhookVerifier(secret)
        self.decide = decide or (lambda receipt, attempt: 200)
        self.receipts: list[Receipt] = []
        self.rejected: list[str] = []
        self.attempts: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            delivery = self.verifier.verify(body, headers.get("x-trove-signature", ""))
        except WebhookSignatureError as exc:
            with self.lock:
                self.rejected.append(exc.reason)
            await respond(send, 400, {"error": exc.reason})
            return
        event = delivery.event
        receipt = Receipt(event.id, event.type, event.namespace, headers, body, time.time())
        with self.lock:
            self.receipts.append(receipt)
            self.attempts[event.id] += 1
            attempt = self.attempts[event.id]
        status = self.decide(receipt, attempt)
        await respond(send, status, {"status": "processed" if status < 300 else "failed"})

    def ids(self, namespace: str | None = ...) -> list[str]:  # type: ignore[assignment]
        with self.lock:
            return [
                r.event_id for r in self.receipts if namespace is ... or r.namespace == namespace
            ]


async def respond(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = b"" if status in (204, 304) else json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, port: int = 0, *, lifespan: str = "off") -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test receiver did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _process_app(secret: str, log_path: str) -> Callable[..., Any]:
    """The app of the receiver process: verify, append a line, flush, answer."""
    verifier = WebhookVerifier(secret)
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 — lives as long as the process

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"{message['type']}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            event = verifier.verify(body, headers.get("x-trove-signature", "")).event
        except WebhookSignatureError as exc:
            await respond(send, 400, {"error": exc.reason})
            return
        line = json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "namespace": event.namespace,
                "attempt": headers.get("x-trove-attempt"),
                "pid": os.getpid(),
            }
        )
        log.write(line + "\n")
        log.flush()  # in the OS's hands: a killed process loses nothing it acknowledged
        await respond(send, 200, {"status": "processed"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        _process_app(args.secret, args.log), log_level="warning", ws="none", lifespan="on"
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
