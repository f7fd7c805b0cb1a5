"""CLI benchmarks: how fast an event reaches a local receiver, and how fast ``trove`` starts.

1. Event created → received by a local receiver, three ways, on the same events in the same
   run: ``trove webhooks listen`` (the stream, re-signed and forwarded), the server's own
   webhook delivery, and — the baseline — a 2-second polling tail that forwards what each poll
   finds (what the 0.7.x ``trove tail`` loop gives you). Latency is from just before the
   write request is sent to the moment the receiver has verified the delivery.
2. ``trove --version`` wall time against ``python -c pass`` (and ``trove --help`` for
   reference), interleaved, median of many runs.

    python bench/cli.py [--events 200] [--runs 25]

Targets: listen p50 ≤ 50 ms; ``trove --version`` ≤ 3× ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from trove_cli.config import Config, Profile
from trove_sdk import TroveAdminClient, WebhookSignatureError, WebhookVerifier, sign_webhook
from trove_server.testing import spawn_server

LISTEN_SECRET = "trove-whsec-" + "b" * 48
TROVE = str(Path(sys.executable).with_name("trove"))
POLL_INTERVAL = 2.0


class Receiver:
    """Verifies each delivery and notes when its ``data.path`` arrived, per route."""

    def __init__(self) -> None:
        self.verifiers: dict[str, WebhookVerifier] = {}
        self.arrived: dict[str, dict[str, float]] = {}
        self.rejected = 0

    def route(self, path: str, secret: str) -> None:
        self.verifiers[path] = WebhookVerifier(secret)
        self.arrived[path] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        status = 204
        verifier = self.verifiers.get(scope["path"])
        try:
            if verifier is None:
                raise WebhookSignatureError("no such route")
            event = verifier.verify(body, headers.get(b"x-trove-signature", b"").decode()).event
            path = getattr(event.data, "path", None)
            if path is not None:
                self.arrived[scope["path"]].setdefault(path, time.time())
        except WebhookSignatureError:
            self.rejected += 1
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def serve(app: Any) -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def polling_tail(admin: TroveAdminClient, url: str, stop: threading.Event) -> None:
    """The baseline: poll the feed every 2 s, forward what is new (oldest first)."""
    import httpx

    bookmark = None
    with httpx.Client() as http:
        while not stop.is_set():
            page = admin.list_events(since=bookmark, types="file.written", limit=200)
            for event in reversed(page.events):
                body = json.dumps(event.to_dict(), separators=(",", ":")).encode()
                http.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Trove-Signature": sign_webhook(LISTEN_SECRET, body),
                    },
                )
                bookmark = event.created_at
            if bookmark is None:
                bookmark = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            stop.wait(POLL_INTERVAL)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def event_latency(events: int) -> list[tuple[str, float, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="trove-bench-cli-"))
    os.environ["TROVE_HOME"] = str(workdir / "home")
    receiver = Receiver()
    base, http_server = serve(receiver)
    try:
        with spawn_server(workdir / "server", sandbox="none", log_level="warning") as server:
            Config().save(
                Profile(
                    name="default",
                    api_key=server.api_key,
                    workspace_id=server.workspace_id,
                    base_url=server.base_url,
                ),
                make_default=True,
            )
            admin = server.admin()
            hook = admin.create_webhook(base + "/webhook", events=["file.written"])
            receiver.route("/webhook", hook.signing_secret)
            receiver.route("/listen", LISTEN_SECRET)
            receiver.route("/poll", LISTEN_SECRET)

            listen = subprocess.Popen(
                [
                    TROVE,
                    "webhooks",
                    "listen",
                    "--forward-to",
                    base + "/listen",
                    "--secret",
                    LISTEN_SECRET,
                    "-t",
                    "file.written",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert listen.stderr is not None
            for line in listen.stderr:
                if "✓ connected" in line:
                    break
            threading.Thread(target=lambda: listen.stderr.read(), daemon=True).start()  # type: ignore[union-attr]
            stop = threading.Event()
            poller = threading.Thread(
                target=polling_tail, args=(admin, base + "/poll", stop), daemon=True
            )
            poller.start()

            sent: dict[str, float] = {}
            with server.client("bench") as client:
                for i in range(events):
                    path = f"workspace/bench-{i}.txt"
                    sent[path] = time.time()
                    client.write(path, "x")
                    time.sleep(0.02)
            deadline = time.monotonic() + 30
            while any(len(arrived) < events for arrived in receiver.arrived.values()):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            stop.set()
            listen.terminate()
            listen.wait(30)
            admin.close()
    finally:
        http_server.should_exit = True
        shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    for label, route in (
        ("trove webhooks listen", "/listen"),
        ("server webhook delivery", "/webhook"),
        ("2 s polling tail (baseline)", "/poll"),
    ):
        latencies = [(receiver.arrived[route][p] - sent[p]) * 1000 for p in receiver.arrived[route]]
        missing = events - len(latencies)
        if missing:
            print(f"warning: {label}: {missing} of {events} events never arrived", file=sys.stderr)
        rows.append((label, percentile(latencies, 0.5), percentile(latencies, 0.99)))
    if receiver.rejected:
        print(f"warning: {receiver.rejected} deliveries failed verification", file=sys.stderr)
    return rows


def startup(runs: int) -> dict[str, float]:
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "trove --version": [TROVE, "--version"],
        "trove --help": [TROVE, "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    rows = event_latency(args.events)
    baseline = rows[-1][1]
    print(f"\nEvent created → verified by a local receiver ({args.events} events)")
    print(f"{'path':<30} {'p50 ms':>9} {'p99 ms':>9} {'p50 vs baseline':>16}")
    for label, p50, p99 in rows:
        print(f"{label:<30} {p50:>9.1f} {p99:>9.1f} {p50 / baseline:>15.3f}×")
    listen_p50 = rows[0][1]
    print(f"target: listen p50 ≤ 50 ms → {'met' if listen_p50 <= 50 else 'MISSED'}")

    times = startup(args.runs)
    floor = times["python -c pass"]
    print(f"\nStart-up, median of {args.runs} runs")
    print(f"{'command':<30} {'ms':>9} {'vs python -c pass':>18}")
    for name, ms in times.items():
        print(f"{name:<30} {ms:>9.1f} {ms / floor:>17.2f}×")
    ratio = times["trove --version"] / floor
    print(f"target: trove --version ≤ 3× python -c pass → {'met' if ratio <= 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
