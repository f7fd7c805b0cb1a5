"""Exec round trip: SDK ``exec_detailed("true")`` against the floor, a bare sandbox spawn.

The floor runs ``bwrap <the server's exact flags> /bin/true`` from this process — what a
command costs before any HTTP, auth, shell, init.sh or event. The server runs in its own
process (``python -m trove_server``), so client and server do not share a GIL. Both are
measured in the same run, interleaved in rounds, on the same machine.

    python bench/exec.py [--runs 200]

Target: exec p50 ≤ 2.5× the floor's p50.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trove_server.serve import prepare
from trove_server.settings import Settings
from trove_server.testing import spawn_server

TARGET = 2.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="trove-bench-exec-"))
    settings = Settings(work / "floor")
    sandbox = prepare(settings)
    floor_root = settings.run_dir / "probe"
    floor_argv = sandbox.floor_argv(floor_root)
    floor: list[float] = []
    trip: list[float] = []
    with spawn_server(work / "server") as server, server.client("bench") as client:
        client.exec_detailed("true")  # namespace created, caches warm
        for _ in range(20):
            subprocess.run(floor_argv, check=True)
            client.exec_detailed("true")
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(floor_argv, check=True)
            floor.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            result = client.exec_detailed("true")
            trip.append((time.perf_counter() - started) * 1000)
            assert result.exit_code == 0
        isolation = server.isolation
    rows = [
        ("bare bwrap spawn (floor)", floor),
        ('SDK exec_detailed("true")', trip),
    ]
    print(f"exec round trip, isolation={isolation}, {args.runs} runs each (ms)")
    print(f"{'':28} {'p50':>8} {'p99':>8} {'mean':>8}")
    for name, values in rows:
        print(
            f"{name:28} {percentile(values, 0.5):8.2f} {percentile(values, 0.99):8.2f} "
            f"{statistics.fmean(values):8.2f}"
        )
    ratio = percentile(trip, 0.5) / percentile(floor, 0.5)
    verdict = "OK" if ratio <= TARGET else "MISSED"
    print(f"{'ratio p50 (exec / floor)':28} {ratio:8.2f}x   target <= {TARGET}x  {verdict}")
    if isolation != "bwrap":
        print("note: no bubblewrap here, so the floor is a plain `true`", file=sys.stderr)


if __name__ == "__main__":
    main()
