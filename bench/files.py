"""100 MiB upload and download through the server vs plain loopback transfers.

Baselines move the same 100 MiB between two processes on loopback, in the same run: raw TCP
(``sendall`` → ``recv_into``: the machine's ceiling) and plain HTTP — the same HTTP stack
(httpx client; uvicorn, httptools and uvloop server) with endpoints that only consume,
store (a plain ``open().write`` per chunk) or produce the bytes. The server run is the SDK's
``upload`` and ``download`` against ``python -m trove_server`` in its own process: auth, path
checks, a temp file, the atomic rename, the event.

An upload is only done when it is stored, so the upload target is judged against plain HTTP
*writing the bytes to disk* (on a VM whose page cache is full of dirty pages, the disk, not
the network, sets that pace); the download target against plain HTTP serving from memory.
Contenders take turns within every round (a busy machine slows them alike); each figure is the
best of ``--rounds``. The server's peak RSS growth during each transfer comes from
``/proc/<pid>/status`` (``VmHWM``, reset through ``clear_refs`` before each transfer).

    python bench/files.py [--rounds 5]

Targets: upload and download ≥ 50% of their plain HTTP baseline; server RSS growth < 64 MiB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from trove_server.testing import spawn_server

SIZE = 100 << 20
CHUNK = 1 << 20
TARGET_RATIO = 0.5
TARGET_RSS_MIB = 64


def chunks(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield bytes(view[start : start + CHUNK])


def _raw_peer(port_queue: Any, sink: bool) -> None:
    """Accepts connections forever: receives 100 MiB (sink) or sends them (source)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port_queue.put(server.getsockname()[1])
    data = os.urandom(CHUNK) * 100
    buffer = bytearray(CHUNK)
    while True:
        conn, _ = server.accept()
        with conn:
            if sink:
                received = 0
                while received < SIZE and (n := conn.recv_into(buffer)):
                    received += n
                conn.sendall(b"k")
            else:
                conn.recv(1)
                conn.sendall(data)


def _plain_http(port_queue: Any, spool: str) -> None:
    """A uvicorn app that consumes (PUT /blob), stores (PUT /disk) or produces (GET) 100 MiB."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    data = os.urandom(CHUNK) * 100

    async def put(request: Request) -> Response:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
        return JSONResponse({"size_bytes": received})

    async def store(request: Request) -> Response:
        """The least a service can do with an upload: write it to a file, then drop it."""
        target = Path(spool) / "upload.bin"
        received = 0
        with open(target, "wb") as out:  # noqa: ASYNC230 — deliberately the naive way
            async for chunk in request.stream():
                out.write(chunk)
                received += len(chunk)
        target.unlink()
        return JSONResponse({"size_bytes": received})

    async def get(request: Request) -> Response:
        async def body() -> Any:
            for chunk in chunks(data):
                yield chunk

        return StreamingResponse(body(), headers={"Content-Length": str(SIZE)})

    app = Starlette(
        routes=[
            Route("/blob", put, methods=["PUT"]),
            Route("/disk", store, methods=["PUT"]),
            Route("/blob", get),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_queue.put(sock.getsockname()[1])
    config = uvicorn.Config(app, log_config=None, ws="none", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _start(target: Any, *args: Any) -> tuple[multiprocessing.Process, int]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(queue, *args), daemon=True)
    process.start()
    return process, int(queue.get())


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class Discard:
    """A download destination that keeps nothing (the baselines keep nothing either)."""

    def write(self, chunk: bytes) -> int:
        return len(chunk)


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data = os.urandom(CHUNK) * 100
    sink, sink_port = _start(_raw_peer, True)
    source, source_port = _start(_raw_peer, False)
    work = Path(tempfile.mkdtemp(prefix="trove-bench-files-"))
    web, web_port = _start(_plain_http, str(work))
    url = f"http://127.0.0.1:{web_port}/blob"
    disk_url = f"http://127.0.0.1:{web_port}/disk"
    times: dict[str, list[float]] = {}
    rss: list[int] = []
    buffer = bytearray(CHUNK)

    def raw_up() -> None:
        with socket.create_connection(("127.0.0.1", sink_port)) as conn:
            conn.sendall(data)
            conn.recv(1)

    def raw_down() -> None:
        with socket.create_connection(("127.0.0.1", source_port)) as conn:
            conn.sendall(b"g")
            received = 0
            while received < SIZE and (n := conn.recv_into(buffer)):
                received += n

    with (
        spawn_server(work / "server") as server,
        server.client("bench", timeout=300) as client,
        httpx.Client(timeout=300) as http,
    ):
        pid = server.process.pid
        client.write("warm.txt", "x")
        http.put(url, content=b"warm")

        def trove(action: Any) -> float:
            before = _kib(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak
            seconds = _timed(action)
            rss.append(_kib(pid, "VmHWM") - before)
            return seconds

        def http_down() -> None:
            with http.stream("GET", url) as response:
                for _ in response.iter_bytes():
                    pass

        contenders = {
            "raw up": lambda: _timed(raw_up),
            "raw down": lambda: _timed(raw_down),
            "http up": lambda: _timed(
                lambda: http.put(url, content=chunks(data), headers={"Content-Length": str(SIZE)})
            ),
            "http down": lambda: _timed(http_down),
            "disk up": lambda: _timed(
                lambda: http.put(
                    disk_url, content=chunks(data), headers={"Content-Length": str(SIZE)}
                )
            ),
            # A new file each round: replacing one would also time the old one's deletion.
            "trove up": lambda: trove(lambda: client.upload(f"big-{round_no}.bin", data)),
            "trove down": lambda: trove(
                lambda: client.download(f"big-{round_no}.bin", Discard())  # type: ignore[arg-type]
            ),
        }
        for round_no in range(args.rounds):  # noqa: B007 — read by the lambdas above
            for name, run in contenders.items():
                times.setdefault(name, []).append(run())
    for process in (sink, source, web):
        process.terminate()
    shutil.rmtree(work, ignore_errors=True)  # 500 MiB of uploads per run otherwise
    rate = {name: (SIZE >> 20) / min(seconds) for name, seconds in times.items()}
    print(f"100 MiB transfers on loopback, best of {args.rounds} (MiB/s)")
    print(f"  {'':36} {'upload':>8} {'download':>9}")
    print(f"  {'raw TCP (machine ceiling)':36} {rate['raw up']:8.0f} {rate['raw down']:9.0f}")
    print(f"  {'plain HTTP, bytes dropped':36} {rate['http up']:8.0f} {rate['http down']:9.0f}")
    print(f"  {'plain HTTP, upload written to disk':36} {rate['disk up']:8.0f} {'-':>9}")
    print(f"  {'trove_server via the SDK':36} {rate['trove up']:8.0f} {rate['trove down']:9.0f}")
    # An upload is not done until it is stored, so its baseline stores it too.
    for label, ours, base, base_name in (
        ("upload", rate["trove up"], rate["disk up"], "plain HTTP to disk"),
        ("download", rate["trove down"], rate["http down"], "plain HTTP"),
    ):
        ratio = ours / base
        verdict = "OK" if ratio >= TARGET_RATIO else "MISSED"
        print(
            f"  {label + ' / ' + base_name:36} {ratio:8.0%}   target >= {TARGET_RATIO:.0%}  "
            f"{verdict}"
        )
    growth = max(rss) / 1024
    verdict = "OK" if growth < TARGET_RSS_MIB else "MISSED"
    print(
        f"  {'server peak RSS growth':34} {growth:7.1f}M   target < {TARGET_RSS_MIB} MiB  {verdict}"
    )


if __name__ == "__main__":
    main()
