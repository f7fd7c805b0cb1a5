"""Crashes and restarts of a real server process: ``kill -9`` loses no queued delivery and no
event, a stream resumes across the restart, and Ctrl-C stops running commands cleanly."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
import uuid

import pytest

from tests.server.support import (
    Receiver,
    host_processes_matching,
    host_processes_named,
    require_bwrap,
    wait_until,
)
from trove_sdk import TroveError

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pending(admin, webhook_id):
    page = admin.list_deliveries(webhook_id, limit=200)
    return [d for d in page.deliveries if d.status is None and d.error is None]


def _restart_and_expect_every_delivery(server, port, count):
    """Start the receiver the queued deliveries were aimed at, restart the server, and
    expect one delivery for each of workspace/f1 … f<count>."""
    receiver = Receiver.on_port(port)
    try:
        server.restart()
        deliveries = receiver.wait_for(count, timeout=60)
        paths = {json.loads(d.body)["data"]["path"] for d in deliveries}
        assert paths == {f"workspace/f{i}" for i in range(1, count + 1)}
    finally:
        receiver.close()


def test_queued_deliveries_survive_kill_9(tmp_path):
    from trove_server.testing import spawn_server

    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"  # nothing listens yet: every attempt fails
    with spawn_server(tmp_path / "data", retry_schedule=(0.3, 0.3, 0.3, 0.3, 0.3)) as server:
        with server.admin() as admin:
            hook = admin.create_webhook(url, events=["file.written"])
        with server.client("crash") as client:
            client.exec_detailed("for i in $(seq 100); do echo $i > workspace/f$i; done")
        with server.admin() as admin:
            wait_until(lambda: len(_pending(admin, hook.webhook_id)) == 100)
        server.kill()

        _restart_and_expect_every_delivery(server, port, 100)


def test_a_stream_resumes_across_a_crash_without_gap_or_duplicate(tmp_path):
    from trove_server.testing import spawn_server

    with spawn_server(tmp_path / "data") as server:
        seen: list[str] = []
        done = threading.Event()

        def consume() -> None:
            with server.client("stream") as client:
                for item in client.stream_events(namespace="stream"):
                    seen.append(item.event.data.path)
                    if len(seen) == 6:
                        done.set()
                        return

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        time.sleep(0.5)
        with server.client("stream") as client:
            for name in ("a", "b", "c"):
                client.write(name, "x")
        wait_until(lambda: len(seen) == 3)
        server.kill()
        server.restart()
        with server.client("stream") as client:
            for name in ("d", "e", "f"):
                client.write(name, "x")
        assert done.wait(30)
        assert seen == [f"workspace/{n}" for n in "abcdef"]


def test_events_survive_kill_9_with_their_cursors(tmp_path):
    from trove_server.testing import spawn_server

    with spawn_server(tmp_path / "data") as server:
        with server.client("log") as client:
            client.write("before", "x")
            before = client.list_events(namespace="log").events
        server.kill()
        server.restart()
        with server.client("log") as client:
            client.write("after", "x")
            events = client.list_events(namespace="log").events
    assert events[1:] == before
    assert [e.data.path for e in events] == ["workspace/after", "workspace/before"]


@pytest.mark.parametrize("sandbox", ["none", "auto"], ids=["unsandboxed", "bwrap"])
def test_ctrl_c_kills_running_commands_and_exits_cleanly(tmp_path, sandbox):
    """The command's request answers 503 at once, and its whole process tree — a background
    child as well as the foreground one — is gone, with or without the sandbox."""
    from trove_server.testing import spawn_server

    marker = f"trove-ctrl-c-{uuid.uuid4().hex}"
    with spawn_server(tmp_path / "data", sandbox=sandbox) as server:
        if sandbox == "auto":
            require_bwrap(server.isolation)
        outcome: dict[str, object] = {}

        def run() -> None:
            with server.client("busy") as client:
                try:
                    client.exec_detailed(
                        f"bash -c 'exec -a {marker} sleep 300' & "
                        f"bash -c 'exec -a {marker} sleep 300'"
                    )
                except TroveError as exc:
                    outcome["status"] = exc.status_code

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        wait_until(lambda: len(host_processes_named(marker)) == 2)
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        code = server.process.wait(timeout=30)
        thread.join(10)
        assert code == 0
        assert time.monotonic() - started < 15  # not the 300 s the command wanted
        assert outcome["status"] == 503
        wait_until(lambda: not host_processes_matching(marker), timeout=5)


def test_deliveries_pending_at_ctrl_c_are_sent_after_the_restart(tmp_path):
    """Ctrl-C, unlike ``kill -9``, runs the shutdown path: it must not drop, finish or
    give up the queued deliveries either."""
    from trove_server.testing import spawn_server

    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"  # nothing listens yet: every attempt fails
    with spawn_server(tmp_path / "data", retry_schedule=(0.5,) * 20) as server:
        with server.admin() as admin:
            hook = admin.create_webhook(url, events=["file.written"])
        with server.client("ctrl-c") as client:
            for i in range(1, 21):
                client.write(f"f{i}", str(i))
        with server.admin() as admin:
            wait_until(lambda: len(_pending(admin, hook.webhook_id)) == 20)
        assert server.stop() == 0

        _restart_and_expect_every_delivery(server, port, 20)
