"""Webhook delivery: event → POST received latency, and deliveries per second.

A fast receiver (uvicorn + httptools + uvloop, answering 204) runs in its own process and
records when each event id arrives. The server (``python -m trove_server``, own process)
delivers to it:

* latency — one ``write`` at a time; from the event's ``created_at`` (stamped when the server
  commits the event) to its arrival at the receiver;
* throughput — ``replay`` queues past events at once; deliveries per second until the last one
  has arrived.

Baselines from this process to the same receiver, in the same run, with the same HTTP client
the server uses but none of the server (no queue, database or event): one signed POST at a
time, and POSTs with 64 in flight per second.

    python bench/delivery.py [--events 200] [--burst 3000]

Targets: p50 ≤ 25 ms; ≥ 500 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from trove_sdk import sample_event, sign_webhook
from trove_server.testing import spawn_server
from trove_server.webhook_http import DeliveryClient

TARGET_P50_MS = 25.0
TARGET_RATE = 500.0


def _receiver(port_queue: Any) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    arrivals: dict[str, float] = {}

    async def hook(request: Request) -> Response:
        await request.body()
        arrivals[request.headers.get("x-trove-event-id", "")] = time.time()
        return Response(status_code=204)

    async def seen(request: Request) -> Response:
        return JSONResponse(arrivals)

    async def reset(request: Request) -> Response:
        arrivals.clear()
        return Response(status_code=204)

    app = Starlette(
        routes=[
            Route("/hook", hook, methods=["POST"]),
            Route("/arrivals", seen),
            Route("/reset", reset, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_queue.put(sock.getsockname()[1])
    config = uvicorn.Config(app, log_config=None, ws="none", lifespan="off", backlog=4096)
    uvicorn.Server(config).run(sockets=[sock])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _epoch(created_at: str) -> float:
    return datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()


def _wait_for(http: httpx.Client, base: str, count: int, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        arrivals: dict[str, float] = http.get(f"{base}/arrivals").json()
        if len(arrivals) >= count or time.monotonic() > deadline:
            return arrivals
        time.sleep(0.002)


async def _plain(url: str, singles: int, burst: int) -> tuple[list[float], float]:
    """The floor: signed POSTs with the same HTTP client, but no server, queue or database —
    one at a time (latency, ms), then ``burst`` with 64 in flight (per second)."""
    body = json.dumps(sample_event("file.written"), separators=(",", ":")).encode()
    client = DeliveryClient(user_agent="bench")

    async def post(i: int) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Trove-Signature": sign_webhook("trove-whsec-bench", body),
            "X-Trove-Event-Id": f"plain-{i}",
        }
        await client.post(url, body, headers, timeout=10)

    latencies = []
    for i in range(singles):
        started = time.perf_counter()
        await post(i)
        latencies.append((time.perf_counter() - started) * 1000)
    slots = asyncio.Semaphore(64)

    async def limited(i: int) -> None:
        async with slots:
            await post(i)

    started = time.perf_counter()
    await asyncio.gather(*(limited(i) for i in range(burst)))
    rate = burst / (time.perf_counter() - started)
    await client.close()
    return latencies, rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--burst", type=int, default=3000)
    args = parser.parse_args()
    queue: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receiver, args=(queue,), daemon=True)
    receiver.start()
    base = f"http://127.0.0.1:{queue.get()}"
    hook_url = f"{base}/hook"
    work = Path(tempfile.mkdtemp(prefix="trove-bench-delivery-"))
    with (
        httpx.Client(timeout=60, trust_env=False) as http,
        spawn_server(work / "server") as server,
        server.admin() as admin,
        server.client("bench") as client,
    ):
        for _ in range(50):  # the receiver may still be starting
            try:
                http.post(f"{base}/reset")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        plain, plain_rate = asyncio.run(_plain(hook_url, args.events, args.burst))

        hook = admin.create_webhook(hook_url, events=["file.written"])
        http.post(f"{base}/reset")
        latencies: list[float] = []
        for i in range(args.events):
            client.write(f"lat-{i}.txt", "x")
            event = client.list_events(types="file.written", limit=1).events[0]
            arrivals = _wait_for(http, base, i + 1, 10)
            latencies.append((arrivals[event.id] - _epoch(event.created_at)) * 1000)

        admin.update_webhook(hook.webhook_id, enabled=False)
        client.exec_detailed(f"for i in $(seq {args.burst}); do : > workspace/burst-$i; done")
        admin.update_webhook(hook.webhook_id, enabled=True)
        http.post(f"{base}/reset")
        started = time.time()  # the receiver stamps arrivals with the same clock
        queued = admin.replay_webhook(hook.webhook_id, since="1h", types=["file.written"]).queued
        arrivals = _wait_for(http, base, queued, 120)
        rate = len(arrivals) / (max(arrivals.values()) - started)
    receiver.terminate()

    print(f"webhook delivery, {args.events} single events, burst of {queued} (replay)")
    print(f"  {'':38} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"  {'plain signed POST (floor)':38} {percentile(plain, 0.5):8.2f} "
          f"{percentile(plain, 0.99):8.2f}")  # fmt: skip
    print(f"  {'event -> POST received (trove)':38} {percentile(latencies, 0.5):8.2f} "
          f"{percentile(latencies, 0.99):8.2f}")  # fmt: skip
    print(f"  {'':38} {'per second':>17}")
    print(f"  {'plain POSTs, 64 in flight (floor)':38} {plain_rate:17.0f}")
    print(f"  {'deliveries (trove, replayed burst)':38} {rate:17.0f}")
    p50 = percentile(latencies, 0.5)
    print(f"  {'latency p50':38} {p50:8.2f} ms  target <= {TARGET_P50_MS:g} ms  "
          f"{'OK' if p50 <= TARGET_P50_MS else 'MISSED'}   "
          f"({p50 / percentile(plain, 0.5):.1f}x the floor)")  # fmt: skip
    verdict = "OK" if rate >= TARGET_RATE else "MISSED"
    print(f"  {'throughput':38} {rate:8.0f} /s  target >= {TARGET_RATE:g}/s  {verdict}   "
          f"({rate / plain_rate:.0%} of the floor)")  # fmt: skip


if __name__ == "__main__":
    main()
