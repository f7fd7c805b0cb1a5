"""What MCP costs an agent: ``trove_exec("true")`` through a stdio MCP session against
``AsyncTroveClient.exec_detailed("true")`` straight to the server.

The local server runs in its own process (``spawn_server``), as the MCP server does, so no
path shares an interpreter with the server. Rounds alternate between the paths, and each
path's figure is the median of its calls, so the ratio holds on a noisy shared machine. The
in-memory MCP session (no subprocess, no stdio) is shown too: it separates the protocol's
cost from the pipe's.

    python bench/mcp.py [--quick]

Target: the stdio MCP round trip ≤ 1.5× the direct SDK call.
"""

from __future__ import annotations

import os
import sys

# This script is bench/mcp.py: with its directory first on sys.path, `import mcp` would import
# the script itself instead of the MCP SDK.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable, Mapping  # noqa: E402
from contextlib import AsyncExitStack  # noqa: E402

from mcp import Client, StdioServerParameters  # noqa: E402

from trove_mcp.install import build_entry  # noqa: E402
from trove_mcp.server import create_server  # noqa: E402
from trove_mcp.settings import Settings  # noqa: E402
from trove_sdk import AsyncTroveClient  # noqa: E402
from trove_server.testing import spawn_server  # noqa: E402

TARGET = 1.5
NAMESPACE = "bench-mcp"


async def measure(
    paths: Mapping[str, Callable[[], Awaitable[object]]], rounds: int, per_round: int
) -> dict[str, list[float]]:
    """Seconds per call, for each path, interleaved round by round."""
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, call in paths.items():
            for _ in range(per_round):
                start = time.perf_counter()
                await call()
                timings[name].append(time.perf_counter() - start)
    return timings


async def run(base_url: str, api_key: str, rounds: int, per_round: int) -> int:
    settings = Settings(api_key, NAMESPACE, base_url)
    entry = build_entry(api_key, NAMESPACE, base_url=base_url)
    stdio = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"])
    async with AsyncExitStack() as stack:
        sdk = await stack.enter_async_context(
            AsyncTroveClient(api_key, NAMESPACE, base_url=base_url)
        )
        piped = await stack.enter_async_context(Client(stdio))
        in_memory = await stack.enter_async_context(Client(create_server(settings)))

        async def direct() -> object:
            return await sdk.exec_detailed("true")

        async def over_stdio() -> object:
            result = await piped.call_tool("trove_exec", {"command": "true"})
            assert not result.is_error, result
            return result

        async def over_memory() -> object:
            result = await in_memory.call_tool("trove_exec", {"command": "true"})
            assert not result.is_error, result
            return result

        paths = {
            "SDK exec_detailed (baseline)": direct,
            "MCP trove_exec, stdio subprocess": over_stdio,
            "MCP trove_exec, in-memory session": over_memory,
        }
        await measure(paths, 1, 3)  # warm-up: connections, imports, the sandbox's caches
        timings = await measure(paths, rounds, per_round)

    baseline = statistics.median(timings["SDK exec_detailed (baseline)"])
    print()
    print(f"trove_exec('true') round trip, {rounds * per_round} calls per path (ms)")
    header = f"{'path':36}{'median':>9}{'p90':>9}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    ratios = {}
    for name, samples in timings.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        ratios[name] = median / baseline
        print(f"{name:36}{median * 1e3:9.2f}{p90 * 1e3:9.2f}{ratios[name]:7.2f}×")
    print()
    ratio = ratios["MCP trove_exec, stdio subprocess"]
    if ratio > TARGET:
        print(f"TARGET MISSED: stdio MCP is {ratio:.2f}× the direct call (target ≤ {TARGET}×)")
        return 1
    print(f"target met: stdio MCP is {ratio:.2f}× the direct call (≤ {TARGET}×)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args()
    rounds, per_round = (3, 5) if args.quick else (10, 20)
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as data, spawn_server(data) as server:
        print(
            f"server: {server.base_url} (isolation: {server.isolation}), "
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        )
        return asyncio.run(run(server.base_url, server.api_key, rounds, per_round))


if __name__ == "__main__":
    raise SystemExit(main())
