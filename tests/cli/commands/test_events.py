"""``trove events list`` and ``trove tail`` (push over the stream, replay, polling fallback)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import Trove
from tests.cli.proxy import HidingProxy
from tests.cli.receiver import serve
from tests.cli.runner import TROVE, json_lines
from trove_cli.config import Config


def start_tail(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TROVE, "tail", "--json", "--idle", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def write_until_done(tail: subprocess.Popen[str], client: Any, start: int = 0) -> tuple[str, str]:
    """Write ``<i>.txt`` every 50 ms until ``tail`` exits; returns its output."""
    deadline = time.monotonic() + 60
    i = start
    while tail.poll() is None and time.monotonic() < deadline:
        client.write(f"workspace/{i}.txt", str(i))
        i += 1
        time.sleep(0.05)
    out, err = tail.communicate(timeout=30)
    assert tail.returncode == 0, err
    return out, err


def paths(out: str) -> list[str]:
    return [json.loads(line)["data"]["path"] for line in out.splitlines()]


def test_events_list_shows_the_newest_first(trove: Trove, client: Any) -> None:
    client.write("workspace/a.txt", "a")
    client.write("workspace/b.txt", "b")
    result = trove("events", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "workspace/b.txt" in lines[0] and "workspace/a.txt" in lines[1]
    assert "file.written" in lines[0]


def test_events_list_json_is_one_event_per_line(trove: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "a")
    [event] = json_lines(trove("events", "list", "--json"))
    assert (event["type"], event["namespace"], event["data"]["path"]) == (
        "file.written",
        namespace,
        "workspace/a.txt",
    )


def test_an_empty_list_says_so_on_stderr(trove: Trove) -> None:
    result = trove("events", "list")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "(no events)\n")


def test_a_longer_list_gives_the_cursor_to_continue_with(trove: Trove, client: Any) -> None:
    for name in "abc":
        client.write(f"workspace/{name}.txt", name)
    first = trove("events", "list", "--limit", "2")
    assert len(first.stdout.splitlines()) == 2
    cursor = first.stderr.split("--cursor ")[1].strip()
    rest = trove("events", "list", "--limit", "2", "--cursor", cursor)
    assert "workspace/a.txt" in rest.stdout
    assert "more available" not in rest.stderr


def test_types_filter_the_list(trove: Trove, client: Any) -> None:
    client.write("workspace/a.txt", "a")
    client.exec_detailed("true")
    lines = trove("events", "list", "-t", "exec.completed").stdout.splitlines()
    assert len(lines) == 1 and "exec.completed" in lines[0]


def test_a_misspelt_type_is_a_usage_error_with_a_suggestion(trove: Trove) -> None:
    result = trove("events", "list", "-t", "file.writen")
    assert result.exit_code == 2
    assert "did you mean 'file.written'?" in result.stderr


def test_a_malformed_since_is_a_usage_error(trove: Trove) -> None:
    result = trove("events", "list", "--since", "1h30")
    assert result.exit_code == 2
    assert "expected `now`, a duration such as `5m`" in result.stderr


def test_tail_pushes_events_as_they_happen_without_gaps(profiles: Config, client: Any) -> None:
    """A 30 s poll interval would print nothing in time: these arrive over the stream."""
    tail = start_tail("--max-events", "5", "-t", "file.written", "--interval", "30")
    out, _ = write_until_done(tail, client)
    numbers = [int(p.removeprefix("workspace/").removesuffix(".txt")) for p in paths(out)]
    assert numbers == list(range(numbers[0], numbers[0] + 5))


def test_tail_since_replays_then_continues_live_with_no_duplicate(
    profiles: Config, client: Any
) -> None:
    for name in ("r0", "r1", "r2"):
        client.write(f"workspace/{name}.txt", name)
    tail = start_tail("--since", "1h", "--max-events", "6", "-t", "file.written")
    out, _ = write_until_done(tail, client)
    printed = paths(out)
    assert printed[:3] == ["workspace/r0.txt", "workspace/r1.txt", "workspace/r2.txt"]
    assert printed[3:] == ["workspace/0.txt", "workspace/1.txt", "workspace/2.txt"]


def test_tail_human_lines_and_banner(profiles: Config, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "a")
    result = subprocess.run(
        [TROVE, "tail", "--since", "1h", "--max-events", "1", "--idle", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("tailing ws-")
    assert f"namespace={namespace}  (Ctrl-C to stop)" in result.stderr
    assert "file.written" in result.stdout and "workspace/a.txt  (1B)" in result.stdout


def test_tail_says_idle_once_per_quiet_period(profiles: Config, client: Any) -> None:
    tail = subprocess.Popen(
        [TROVE, "tail", "--idle", "0.3", "--max-events", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    time.sleep(2)
    _, err = write_until_done(tail, client)
    assert err.count("· idle (") == 1


@pytest.fixture
def no_stream_server(trove_server: Any, profiles: Config) -> Iterator[HidingProxy]:
    """The profile points at a proxy that hides the event stream (an older server)."""
    proxy = HidingProxy(trove_server.base_url, hide=lambda path: path.endswith("/stream"))
    with serve(proxy) as url:
        profiles.update("default", base_url=url)
        yield proxy


def test_tail_polls_when_the_server_has_no_stream_and_skips_nothing_in_a_burst(
    no_stream_server: HidingProxy, client: Any
) -> None:
    """250 events from one command arrive between two polls: all are printed, in order."""
    tail = start_tail("-t", "file.written", "--max-events", "250", "--interval", "0.5")
    time.sleep(1.5)
    client.exec_detailed("for i in $(seq 1 250); do echo $i > workspace/f$i; done")
    out, err = tail.communicate(timeout=60)
    assert tail.returncode == 0, err
    assert "this server has no event stream: polling every 0.5s" in err
    assert no_stream_server.hidden
    printed = [json.loads(line)["id"] for line in out.splitlines()]
    emitted = [e.id for e in client.iter_events(types="file.written", namespace=client.namespace)]
    assert len(set(printed)) == 250
    assert printed == emitted[::-1]
