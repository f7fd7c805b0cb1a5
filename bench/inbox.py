"""Queued mode: how fast a delivery is acknowledged, and how draining scales with workers.

    python bench/inbox.py [--postgres postgresql://postgres@127.0.0.1:5432/test]

1. Ack latency (p50/p99, from a separate load process over loopback): queued mode on SQLite
   and on PostgreSQL against inline mode running a 50 ms handler before it can answer.
2. Drain throughput on PostgreSQL with a 10 ms I/O-bound handler: 1 worker process vs 3
   (``trove webhooks worker --concurrency 1`` each). Target: 3 workers ≥ 2.5× one.

Throughput is measured from the handlers' own clock (first start to last finish), so process
start-up and polling delays do not count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from trove_webhooks import WebhookRouter  # noqa: E402

# --- the handler the drain workers run (imported as bench.inbox:sleepy_router) ---------------

sleepy_router = WebhookRouter()


def _record(started: float) -> None:
    with open(os.environ["BENCH_LOG"], "a") as log:
        log.write(f"{started} {time.time()}\n")


@sleepy_router.on_any
async def ten_milliseconds_of_io(event: Any) -> None:
    started = time.time()
    await asyncio.sleep(0.01)
    _record(started)


# --- measurements ----------------------------------------------------------------------------


def receiver_bench(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(HERE / "receiver.py"), *args], env=env, cwd=ROOT)


def ack_latency(variant: str, option: str, count: int, concurrency: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from receiver import measure  # the same server/load processes as bench/receiver.py

    return measure(variant, option, count, concurrency)


def drain(postgres: str, workers: int, events: int) -> float:
    """Events per second drained by ``workers`` processes from a fresh PostgreSQL inbox."""
    from trove_sdk import WebhookVerifier
    from trove_webhooks.inbox import open_sync_inbox
    from trove_webhooks.testing import signed_delivery

    secret = "trove-whsec-bench"
    table = f"bench_inbox_{uuid.uuid4().hex[:10]}"
    url = f"{postgres}?table={table}"
    log = Path(tempfile.mkdtemp(prefix="trove-bench-")) / "runs.log"
    inbox = open_sync_inbox(url)
    verifier = WebhookVerifier(secret)
    for _ in range(events):
        d = signed_delivery("exec.completed", secret=secret)
        verified = verifier.verify(d.body, d.headers["X-Trove-Signature"])
        inbox.enqueue(verified, d.body, {}, received_at=time.time())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_LOG": str(log)}
    trove = str(Path(sys.executable).parent / "trove")
    procs = [
        subprocess.Popen(
            [trove, "webhooks", "worker", "bench.inbox:sleepy_router", "--inbox", url,
             "--concurrency", "1"],
            env=env, cwd=ROOT, stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while inbox.stats()["done"] < events:
            if time.monotonic() > deadline:
                raise SystemExit(f"drain with {workers} worker(s) did not finish")
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        inbox._execute(lambda cur: cur.execute(f"DROP TABLE {table}, {table}_schema"))
        inbox.close()
    runs = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    first_start = min(start for start, _ in runs)
    last_end = max(end for _, end in runs)
    return events / (last_end - first_start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TROVE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--events", type=int, default=600)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="trove-bench-")
    table = f"bench_ack_{uuid.uuid4().hex[:10]}"
    ack = {
        "queued, SQLite inbox": ack_latency(
            "queued", f"sqlite:///{tmp}/inbox.db", args.requests, 8
        ),
        "queued, PostgreSQL inbox": ack_latency(
            "queued", f"{args.postgres}?table={table}", args.requests, 8
        ),
        "inline, 50 ms handler": ack_latency("inline-50ms", "", max(400, args.requests // 5), 8),
    }
    import psycopg

    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_schema")
    inline = ack["inline, 50 ms handler"]
    print(f"\nack latency, 8 concurrent senders ({args.requests} deliveries queued)")
    print(f"{'mode':<28}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'p50 vs inline':>15}")
    for label, r in ack.items():
        print(
            f"{label:<28}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['rps']:>10.0f}"
            f"{inline['p50_ms'] / r['p50_ms']:>14.1f}x"
        )
    one = drain(args.postgres, 1, args.events)
    three = drain(args.postgres, 3, args.events)
    print(f"\ndrain, PostgreSQL inbox, {args.events} events, 10 ms I/O-bound handler")
    print(f"{'workers (concurrency 1 each)':<30}{'events/s':>10}{'vs 1':>8}")
    print(f"{'1':<30}{one:>10.1f}{1:>7.2f}x")
    print(f"{'3':<30}{three:>10.1f}{three / one:>7.2f}x")
    print(f"\n  {'PASS' if three / one >= 2.5 else 'MISS'}  3 workers ≥ 2.5x one")


if __name__ == "__main__":
    main()
