"""Receiver throughput and tail latency over loopback, against a ceiling measured in the same run.

Each server runs alone in its own process under uvicorn (one process, the same settings); the
load comes from another process: keep-alive HTTP/1.1 connections sending pre-signed, unique
deliveries (every request is a new event, so dedupe does real work).

    python bench/receiver.py [--requests 4000] [--concurrency 32] [--redis redis://127.0.0.1:6379/15]

Contenders:
  ceiling        a bare Starlette endpoint that reads the body and answers 200
  memory/sqlite/redis   create_app() with a no-op handler and that store
  flask pattern  what users write today: Flask + trove_sdk.verify_webhook, no dedupe
                 (WSGI under the same uvicorn through a2wsgi)

Targets: memory ≥ 60% of the ceiling, SQLite ≥ 40%, Redis ≥ 40%, memory ≥ 1.5× the Flask pattern.
The sub-commands ``serve`` and ``load`` are what the parent runs in its child processes;
``bench/inbox.py`` uses ``load`` too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SECRET = "trove-whsec-bench0000000000000000000000000000"
HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_LOOP, SERVER_HTTP = "uvloop", "httptools"
ROOT = os.path.dirname(HERE)


# --- servers (child processes) ----------------------------------------------------------------


def build_app(variant: str, option: str) -> Any:
    if variant == "ceiling":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def ok(request: Request) -> Response:
            await request.body()
            return Response(b'{"status":"ok"}', media_type="application/json")

        return Starlette(routes=[Route("/", ok, methods=["POST"])])
    if variant == "flask":
        from a2wsgi import WSGIMiddleware
        from flask import Flask, request

        from trove_sdk import WebhookSignatureError, verify_webhook

        flask_app = Flask("pattern")

        @flask_app.post("/")
        def hook() -> Any:
            try:
                event = verify_webhook(
                    secret=SECRET,
                    body=request.get_data(),
                    signature_header=request.headers.get("X-Trove-Signature", ""),
                )
            except WebhookSignatureError as exc:
                return {"error": str(exc)}, 400
            return {"ok": True, "id": event.id}

        return WSGIMiddleware(flask_app)  # type: ignore[arg-type]
    from trove_webhooks import WebhookRouter, create_app

    router = WebhookRouter()

    @router.on_any
    async def handle(event: Any) -> None:
        if variant == "inline-50ms":
            await asyncio.sleep(0.05)

    if variant in ("memory", "inline-50ms"):
        return create_app(router, secret=SECRET)
    if variant in ("sqlite", "redis"):
        return create_app(router, secret=SECRET, store=option)
    if variant == "queued":
        return create_app(router, secret=SECRET, inbox=option, workers=0)
    raise SystemExit(f"unknown variant {variant}")


def serve(variant: str, port: int, option: str) -> None:
    import uvicorn

    sys.path.insert(0, ROOT)
    # The same server for every contender, named rather than left to auto-detection.
    uvicorn.run(
        build_app(variant, option),
        host="127.0.0.1",
        port=port,
        loop=SERVER_LOOP,
        http=SERVER_HTTP,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


# --- load (child process) ---------------------------------------------------------------------


def signed_requests(count: int, port: int) -> list[bytes]:
    from trove_sdk import sample_event, sign_webhook

    requests = []
    now = int(time.time())
    for _ in range(count):
        body = json.dumps(
            sample_event("file.written", event_id=f"evt-{uuid.uuid4().hex}"), separators=(",", ":")
        ).encode()
        signature = sign_webhook(SECRET, body, timestamp=now)
        head = (
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Trove-Signature: {signature}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _connection(
    port: int, queue: list[bytes], latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    warmup = requests[: min(300, len(requests) // 5)]
    await asyncio.gather(*(_connection(port, warmup, [], {}) for _ in range(concurrency)))
    measured = requests[len(requests) // 5 :] if len(requests) >= 1500 else requests[300:]
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, measured, latencies, statuses) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
    }


def load(port: int, count: int, concurrency: int) -> None:
    requests = signed_requests(count, port)
    print(json.dumps(asyncio.run(_load(port, requests, concurrency))))


# --- the parent: start each server, load it from another process, compare -------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(variant: str, option: str, count: int, concurrency: int) -> dict[str, Any]:
    """Run one server process and one load process; return the load's numbers plus the
    server's CPU time per request (steady under a busy machine, unlike throughput)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": ROOT}
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", variant, str(port), option], env=env, cwd=ROOT
    )
    try:
        wait_listening(port, server)
        cpu_before = cpu_seconds(server.pid)
        out = subprocess.run(
            [sys.executable, __file__, "load", str(port), str(count), str(concurrency)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(30)
    result: dict[str, Any] = json.loads(out)
    result["cpu_us"] = cpu / count * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    p_serve = sub.add_parser("serve")
    p_serve.add_argument("variant")
    p_serve.add_argument("port", type=int)
    p_serve.add_argument("option", nargs="?", default="")
    p_load = sub.add_parser("load")
    p_load.add_argument("port", type=int)
    p_load.add_argument("count", type=int)
    p_load.add_argument("concurrency", type=int)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--redis", default=os.environ.get("TROVE_BENCH_REDIS", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.variant, args.port, args.option)
        return
    if args.command == "load":
        load(args.port, args.count, args.concurrency)
        return

    tmp = tempfile.mkdtemp(prefix="trove-bench-")
    redis_prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    contenders = [
        ("ceiling (bare Starlette)", "ceiling", ""),
        ("create_app, memory store", "memory", ""),
        ("create_app, SQLite store", "sqlite", f"sqlite:///{tmp}/claims.db"),
        ("create_app, Redis store", "redis", f"{args.redis}?prefix={redis_prefix}"),
        ("Flask + verify_webhook (no dedupe)", "flask", ""),
    ]
    try:
        compare(contenders, args)
    finally:
        # Each run leaves its claims behind for the 3-day retention: remove them, or a shared
        # Redis database fills with keys that slow every later SCAN (test clean-ups use it).
        shutil.rmtree(tmp, ignore_errors=True)
        remove_redis_keys(args.redis, redis_prefix)


def remove_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        batch = []
        for key in client.scan_iter(f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
    except redis.RedisError as exc:
        print(f"could not remove the bench's Redis keys ({prefix}*): {exc}", file=sys.stderr)
    finally:
        client.close()


def compare(contenders: list[tuple[str, str, str]], args: argparse.Namespace) -> None:
    # Interleaved rounds, each contender's share of the ceiling taken within a round and the
    # median over rounds reported (as bench/verify.py does): the machine is shared, and
    # comparing best-of figures lets one quiet moment that fell on one contender decide.
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for _, variant, _ in contenders}
    for round_number in range(1, args.rounds + 1):
        for label, variant, option in contenders:
            result = measure(variant, option, args.requests, args.concurrency)
            bad = {s: n for s, n in result["statuses"].items() if str(s) != "200"}
            if bad:
                raise SystemExit(f"{label}: unexpected statuses {bad}")
            runs[variant].append(result)
        print(f"  round {round_number}/{args.rounds} done", file=sys.stderr)

    def median(variant: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[variant])

    def share(variant: str, baseline: str, key: str = "rps") -> float:
        """The median over rounds of this contender's figure over the baseline's."""
        pairs = zip(runs[variant], runs[baseline], strict=True)
        return statistics.median(run[key] / base[key] for run, base in pairs)

    print(
        f"\nreceiver throughput: {args.requests} unique signed deliveries per run, "
        f"{args.concurrency} connections, medians of {args.rounds} interleaved rounds; every "
        f"server: one uvicorn process, loop={SERVER_LOOP}, http={SERVER_HTTP}"
    )
    columns = ("req/s", "p50 ms", "p99 ms", "vs ceiling", "vs Flask", "CPU µs/req", "CPU ratio")
    print(f"{'contender':<36}" + "".join(f"{c:>11}" for c in columns))
    for label, variant, _ in contenders:
        print(
            f"{label:<36}{median(variant, 'rps'):>11.0f}{median(variant, 'p50_ms'):>11.2f}"
            f"{median(variant, 'p99_ms'):>11.2f}{share(variant, 'ceiling'):>11.0%}"
            f"{share(variant, 'flask'):>10.2f}x{median(variant, 'cpu_us'):>11.0f}"
            f"{1 / share(variant, 'ceiling', 'cpu_us'):>11.0%}"
        )
    print(
        "  (vs ceiling / vs Flask: the median over rounds of req/s over the other's req/s in the"
        " same round. CPU ratio: the ceiling's server CPU per request over this one's — the"
        " share this contender would get on an idle machine)"
    )
    targets = [
        ("memory ≥ 60% of ceiling", share("memory", "ceiling") >= 0.60),
        ("SQLite ≥ 40% of ceiling", share("sqlite", "ceiling") >= 0.40),
        ("Redis ≥ 40% of ceiling", share("redis", "ceiling") >= 0.40),
        ("memory ≥ 1.5x the Flask pattern", share("memory", "flask") >= 1.5),
    ]
    print()
    for name, ok in targets:
        print(f"  {'PASS' if ok else 'MISS'}  {name}")


if __name__ == "__main__":
    main()
