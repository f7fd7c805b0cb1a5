"""``trove webhooks listen``: live events, re-signed, to a local receiver — and never lost.

Each run is the installed ``trove`` executable in a subprocess, as a developer runs it. The
last test is the one the feature exists for: while 1,000 events are produced, the receiver is
restarted twice and the server once, and every event still arrives, verified, in order per
namespace.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli.receiver import RecordingReceiver, free_port, serve
from tests.cli.runner import TROVE, invoke
from trove_cli.config import Config, Profile
from trove_sdk import (
    TroveClient,
    TroveConnectionError,
    TroveServerError,
    TroveTimeoutError,
    verify_webhook,
)

SECRET = "trove-whsec-" + "4" * 48
ROOT = Path(__file__).resolve().parents[4]


class Listen:
    """``trove webhooks listen [--json] ARGS`` in a subprocess, its output read as it comes.

    With ``tty=True`` stdout is a pseudo-terminal (where colour would be on) and its lines
    are kept without the terminal's ``\\r``; ``env`` is added to this process's environment.
    """

    def __init__(
        self,
        url: str,
        *args: str,
        as_json: bool = True,
        tty: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        argv = [TROVE, "webhooks", "listen", "--forward-to", url]
        if as_json:
            argv.append("--json")
        stdout: int = subprocess.PIPE
        terminal: int | None = None
        if tty:
            import pty

            terminal, stdout = pty.openpty()
        self.process = subprocess.Popen(
            [*argv, *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        out_stream: Any = self.process.stdout
        if terminal is not None:
            os.close(stdout)  # the child holds it now: its exit ends our reads
            out_stream = open(terminal, encoding="utf-8", newline="")  # noqa: SIM115
        self._streams = [out_stream, self.process.stderr]
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(out_stream, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        try:
            for line in stream:
                lines.append(line.replace("\r\n", "\n"))
        except OSError:  # EIO: a pseudo-terminal whose other end has closed
            pass

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.err):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"listen never said {text!r}:\n{''.join(self.err)}")
            time.sleep(0.02)

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(10)
        for stream in self._streams:
            if stream is not None:
                stream.close()

    def finish(self, timeout: float = 60) -> tuple[str, str]:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"listen did not finish:\n{''.join(self.err)}") from None
        self._close()
        return "".join(self.out), "".join(self.err)


def start_listen(url: str, *args: str, **options: Any) -> Listen:
    """Start ``listen`` and wait until it is connected: events from then on are forwarded."""
    listen = Listen(url, *args, **options)
    listen.wait_for("✓ connected")
    return listen


def finish(listen: Listen, timeout: float = 60) -> tuple[str, str]:
    out, err = listen.finish(timeout)
    assert listen.process.returncode == 0, err
    return out, err


def produce_until_done(listen: Listen, client: TroveClient, prefix: str) -> None:
    """Write a file every 50 ms until ``listen`` exits (events keep coming while it runs)."""
    deadline = time.monotonic() + 60
    i = 0
    while listen.poll() is None and time.monotonic() < deadline:
        client.write(f"workspace/{prefix}{i}.txt", str(i))
        i += 1
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[tuple[RecordingReceiver, str]]:
    app = RecordingReceiver(SECRET)
    with serve(app) as url:
        yield app, url + "/trove/events"


def test_events_arrive_signed_with_the_d9_headers(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(url, "--secret", SECRET, "-n", namespace, "--max-events", "3")
    produce_until_done(listen, client, "a")
    out, err = finish(listen)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["ok"] for line in lines] == [True] * 3
    assert len(app.receipts) == 3 and app.rejected == []
    feed = {e.id: e for e in client.iter_events(namespace=namespace)}
    for receipt in app.receipts:
        event = feed[receipt.event_id]
        assert json.loads(receipt.body) == event.to_dict()
        headers = receipt.headers
        assert headers["x-trove-event"] == event.type
        assert headers["x-trove-event-id"] == event.id
        assert headers["x-trove-attempt"] == "1"
        assert headers["x-trove-delivery"].startswith("dlv-")
        assert headers["user-agent"].startswith("Trove-Webhooks/")
        assert headers["content-type"] == "application/json"
    assert f"signing secret: {SECRET}  (--secret)" in err
    assert "forwarded 3, failed 0, retried 0, latency p50" in err


def local_time(created_at: str) -> str:
    """An event line's time: local ``HH:MM:SS`` today, ``MM-DD HH:MM:SS`` on other days."""
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone()
    if moment.date() == datetime.now(moment.tzinfo).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M:%S")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
def test_without_json_each_event_is_one_line_time_type_id_status_and_latency(
    profiles: Config,
    receiver: tuple[RecordingReceiver, str],
    client: TroveClient,
    namespace: str,
    no_color: bool,
) -> None:
    """On a terminal, one line per forwarded event on stdout (the banner is on stderr);
    ``NO_COLOR`` takes the green away and nothing else."""
    app, url = receiver
    env = {"NO_COLOR": "1" if no_color else ""}  # empty means unset (no-color.org)
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "--max-events", "2",
        as_json=False, tty=True, env=env,
    )  # fmt: skip
    produce_until_done(listen, client, "human")
    finish(listen)
    assert len(app.receipts) == 2
    feed = {e.id: e for e in client.iter_events(namespace=namespace)}
    lines = [line.rstrip("\n") for line in listen.out]
    assert len(lines) == 2, lines
    for line, receipt in zip(lines, app.receipts, strict=True):
        event = feed[receipt.event_id]
        plain = line.removeprefix("\x1b[32m").removesuffix("\x1b[0m")
        coloured = plain != line
        assert coloured is not no_color  # green exactly when colour is allowed
        assert "\x1b" not in plain
        head = f"{local_time(event.created_at):<14}  ✓ {'file.written':<18}  {event.id}  →  200  ("
        assert plain.startswith(head), plain
        latency = plain[len(head) :]
        assert re.fullmatch(r"\d+ms\)", latency), plain
        assert int(latency[:-3]) < 5000  # under the forward timeout


class RawStream:
    """The server's event stream for one namespace, read as bytes: each event's ``data:``
    payload exactly as it came over the wire, by event id."""

    def __init__(self, server: Any, namespace: str) -> None:
        self.data: dict[str, bytes] = {}
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(server, namespace), daemon=True)
        self._thread.start()
        assert self.connected.wait(30), "the stream did not open"

    def _run(self, server: Any, namespace: str) -> None:
        import httpx

        url = f"{server.base_url}/v1/workspaces/{server.workspace_id}/webhooks/stream"
        headers = {"Authorization": f"Bearer {server.api_key}"}
        with httpx.stream(
            "GET", url, params={"namespace": namespace}, headers=headers, timeout=None
        ) as response:
            buffer = b""
            for chunk in response.iter_raw():  # a keep-alive at least every second
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")  # this server ends SSE lines with LF
                for line in lines:
                    if line.startswith(b"data: "):
                        payload = line[len(b"data: ") :]
                        envelope = json.loads(payload)
                        if envelope["type"] == "connected":
                            self.connected.set()
                        else:
                            self.data[envelope["id"]] = payload
                if self._stop.is_set():
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


def test_the_forwarded_body_is_the_exact_bytes_the_server_streamed_signed_with_the_secret(
    profiles: Config, trove_server: Any, client: TroveClient, namespace: str
) -> None:
    """Not a re-serialisation: the same bytes, whatever the JSON holds (non-ASCII, astral
    characters, escapes, U+2028), so the receiver sees exactly what production delivers."""
    secret = invoke("webhooks", "listen", "--print-secret").stdout.strip()
    app = RecordingReceiver(secret)
    raw = RawStream(trove_server, namespace)
    try:
        with serve(app) as base:
            listen = start_listen(base + "/trove/events", "-n", namespace, "--max-events", "3")
            client.write("workspace/naïve\u2028☃ 😀.txt", "x")
            client.exec_detailed("printf 'tab\\t \"q\" \\\\ é 😀 \\342\\200\\250 </script>\\n'")
            client.write("workspace/plain.txt", "x")
            _, err = finish(listen)
        deadline = time.monotonic() + 30
        while not all(r.event_id in raw.data for r in app.receipts):
            assert time.monotonic() < deadline, "the stream never sent some events"
            time.sleep(0.02)
    finally:
        raw.close()

    assert f"signing secret: {secret}  (local secret of profile 'default')" in err
    assert [r.event_type for r in app.receipts] == [
        "file.written",
        "exec.completed",
        "file.written",
    ]
    for receipt in app.receipts:
        assert receipt.body == raw.data[receipt.event_id]
        event = verify_webhook(
            secret=secret, body=receipt.body, signature_header=receipt.headers["x-trove-signature"]
        )
        assert event.id == receipt.event_id
    written, executed, _ = (r.body for r in app.receipts)
    assert "naïve\\u2028☃ 😀".encode() in written  # UTF-8 as sent, U+2028 escaped by the server
    assert 'tab\\t \\"q\\" \\\\ é 😀 \\u2028 </script>\\n'.encode() in executed


def test_the_local_secret_is_made_once_per_profile_and_kept(
    profiles: Config, client: TroveClient, namespace: str
) -> None:
    first = invoke("webhooks", "listen", "--print-secret")
    second = invoke("webhooks", "listen", "--print-secret")
    secret = first.stdout.strip()
    assert secret.startswith("trove-whsec-")
    assert second.stdout.strip() == secret
    assert Config().get("default").listen_secret == secret

    app = RecordingReceiver(secret)
    with serve(app) as url:
        for run in range(2):
            listen = start_listen(url, "-n", namespace, "--max-events", "1")
            produce_until_done(listen, client, f"run{run}-")
            _, err = finish(listen)
            assert f"signing secret: {secret}  (local secret of profile 'default')" in err
    assert len(app.receipts) >= 2 and app.rejected == []


def produce_until_received(app: RecordingReceiver, client: TroveClient, count: int) -> None:
    deadline = time.monotonic() + 60
    i = 0
    while len(app.receipts) < count:
        assert time.monotonic() < deadline, "nothing arrived"
        client.write(f"workspace/online{i}.txt", "x")
        i += 1
        time.sleep(0.05)


def test_a_restarted_listen_resumes_after_what_it_finished_without_gap_or_duplicate(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(url, "--secret", SECRET, "-n", namespace, "--max-events", "2")
    produce_until_received(app, client, 2)
    finish(listen)
    for i in range(4):  # while listen is not running
        client.write(f"workspace/offline{i}.txt", "x")
    order = [e.id for e in client.iter_events(namespace=namespace)][::-1]
    missed = order[order.index(app.receipts[-1].event_id) + 1 :]
    assert len(missed) >= 4
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "--max-events", str(len(missed))
    )
    _, err = finish(listen)
    assert "resuming after event cursor" in err
    assert [r.event_id for r in app.receipts[2:]] == missed


def test_no_resume_starts_from_now(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(url, "--secret", SECRET, "-n", namespace, "--max-events", "1")
    produce_until_received(app, client, 1)
    finish(listen)
    client.write("workspace/skipped.txt", "x")
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "--max-events", "1", "--no-resume"
    )
    produce_until_done(listen, client, "later")
    finish(listen)
    assert "workspace/skipped.txt" not in [json.loads(r.body)["data"]["path"] for r in app.receipts]


def test_since_replays_recent_events_first(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    for i in range(3):
        client.write(f"workspace/old{i}.txt", "x")
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "--since", "10m", "--max-events", "3"
    )
    out, _ = finish(listen)
    assert [json.loads(r.body)["data"]["path"] for r in app.receipts] == [
        f"workspace/old{i}.txt" for i in range(3)
    ]
    assert all(json.loads(line)["replayed"] for line in out.splitlines())


def test_types_and_namespace_filter_what_is_forwarded(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "-t", "exec.completed", "--max-events", "2"
    )
    deadline = time.monotonic() + 60
    while listen.poll() is None and time.monotonic() < deadline:
        client.write("workspace/ignored.txt", "x")
        client.exec_detailed("true")
        time.sleep(0.05)
    finish(listen)
    assert {r.event_type for r in app.receipts} == {"exec.completed"}
    assert {r.namespace for r in app.receipts} == {namespace}


def test_extra_headers_are_sent(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(
        url, "--secret", SECRET, "-n", namespace, "-H", "X-Tenant: acme", "--max-events", "1"
    )
    produce_until_done(listen, client, "h")
    finish(listen)
    assert app.receipts[0].headers["x-tenant"] == "acme"


def test_ctrl_c_prints_the_summary_and_exits_130(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    app, url = receiver
    listen = start_listen(url, "--secret", SECRET, "-n", namespace)
    deadline = time.monotonic() + 30
    i = 0
    while len(app.receipts) < 2:
        assert time.monotonic() < deadline
        client.write(f"workspace/c{i}.txt", "x")
        i += 1
        time.sleep(0.05)
    listen.process.send_signal(signal.SIGINT)
    _, err = listen.finish(30)
    assert listen.process.returncode == 130
    assert "failed 0, retried 0, latency p50" in err


def test_a_target_on_another_machine_is_refused(profiles: Config) -> None:
    result = invoke(
        "webhooks", "listen", "--forward-to", "https://example.com/hooks", "--secret", SECRET
    )
    assert result.exit_code == 2
    assert "example.com is not this machine" in result.stderr


def test_a_malformed_header_is_refused(profiles: Config) -> None:
    result = invoke("webhooks", "listen", "--secret", SECRET, "-H", "oops")
    assert result.exit_code == 2
    assert "write it as 'Name: value'" in result.stderr


def test_an_unreachable_server_exits_4(profiles: Config) -> None:
    Config().update("default", base_url=f"http://127.0.0.1:{free_port()}")
    result = invoke("webhooks", "listen", "--secret", SECRET)
    assert result.exit_code == 4
    assert "error: network — could not reach" in result.stderr


# --- the never-lose test ----------------------------------------------------------------


class ReceiverProcess:
    """``tests/cli/receiver.py`` as its own process, so it can be killed and restarted."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.cli.receiver",
                "--port",
                str(self.port),
                "--secret",
                SECRET,
                "--log",
                str(self.log),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.05)

    def stop(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


def write_through_restarts(client: TroveClient, path: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            client.write(path, "x")
            return
        except (TroveConnectionError, TroveServerError, TroveTimeoutError):
            assert time.monotonic() < deadline, "the server did not come back"
            time.sleep(0.05)


@pytest.mark.slow
def test_no_event_is_lost_across_receiver_and_server_restarts(
    trove_home: str, tmp_path: Path
) -> None:
    from trove_server.testing import spawn_server

    namespaces = ["alpha", "beta", "gamma", "delta"]
    receiver = ReceiverProcess(free_port(), tmp_path / "received.jsonl")
    with spawn_server(tmp_path / "server", sse_keepalive=1.0, sandbox="none") as server:
        Config().save(
            Profile(
                name="default",
                api_key=server.api_key,
                workspace_id=server.workspace_id,
                base_url=server.base_url,
            ),
            make_default=True,
        )
        receiver.start()
        listen = start_listen(
            f"http://127.0.0.1:{receiver.port}/", "--secret", SECRET, "--concurrency", "4"
        )
        clients = {ns: server.client(ns, max_retries=0) for ns in namespaces}
        try:
            for i in range(1000):
                if i == 250:
                    receiver.stop(signal.SIGKILL)  # crashed mid-stream
                    time.sleep(0.5)
                    receiver.start()
                if i == 500:
                    server.kill()  # kill -9: no goodbye to the stream
                    server.restart()
                if i == 750:
                    receiver.stop(signal.SIGTERM)  # a --reload style restart
                    time.sleep(1.0)
                    receiver.start()
                ns = namespaces[i % len(namespaces)]
                write_through_restarts(clients[ns], f"workspace/{i}.txt")

            with server.admin() as admin:
                produced = [
                    e for e in admin.iter_events(types="file.written") if e.namespace in namespaces
                ][::-1]
            assert len(produced) >= 1000
            wanted = {e.id for e in produced}
            deadline = time.monotonic() + 60
            while not wanted <= {r["id"] for r in receiver.received()}:
                assert listen.poll() is None, "".join(listen.err)
                assert time.monotonic() < deadline, (
                    f"{len(wanted - {r['id'] for r in receiver.received()})} events never arrived"
                )
                time.sleep(0.2)
        finally:
            for client in clients.values():
                client.close()
            listen.process.send_signal(signal.SIGINT)
            _, err = listen.finish(30)
            if receiver.process is not None:
                receiver.stop(signal.SIGTERM)

    received = receiver.received()
    first_seen: dict[str, list[str]] = {ns: [] for ns in namespaces}
    seen: set[str] = set()
    for row in received:
        if row["id"] in wanted and row["id"] not in seen:
            seen.add(row["id"])
            first_seen[row["namespace"]].append(row["id"])
    for ns in namespaces:
        assert first_seen[ns] == [e.id for e in produced if e.namespace == ns], ns
    assert len({r["pid"] for r in received}) == 3  # three receiver processes took part
    assert "↻ reconnected to the stream" in err  # the server restart was ridden out
    [summary] = [line for line in err.splitlines() if line.startswith("forwarded ")]
    assert ", failed 0, retried " in summary


def test_a_server_restart_before_the_first_event_loses_nothing(
    trove_home: str, tmp_path: Path, receiver: tuple[RecordingReceiver, str]
) -> None:
    """Events created after the restart but before ``listen`` reconnects still arrive: the
    stream resumes from where the first connection started, not from "now"."""
    from trove_server.testing import spawn_server

    app, url = receiver
    with spawn_server(tmp_path / "server", sse_keepalive=1.0, sandbox="none") as server:
        Config().save(
            Profile(
                name="default",
                api_key=server.api_key,
                workspace_id=server.workspace_id,
                base_url=server.base_url,
            ),
            make_default=True,
        )
        listen = start_listen(url, "--secret", SECRET, "-t", "file.written", "--max-events", "5")
        server.kill()
        time.sleep(3)  # long enough for listen's reconnect backoff to grow past the writes
        server.restart()
        with server.client("alpha") as client:
            for i in range(5):
                client.write(f"workspace/{i}.txt", "x")
        _, err = finish(listen)
    assert "↻ reconnected" in err
    assert [json.loads(r.body)["data"]["path"] for r in app.receipts] == [
        f"workspace/{i}.txt" for i in range(5)
    ]


def test_a_saved_cursor_the_server_refuses_is_dropped_with_a_warning(
    profiles: Config, receiver: tuple[RecordingReceiver, str], client: TroveClient, namespace: str
) -> None:
    """A reset data directory makes the saved position meaningless: start from now."""
    from trove_cli.cursors import CursorStore

    app, url = receiver
    CursorStore(profiles.get("default"), url).save("999999999")
    listen = start_listen(url, "--secret", SECRET, "-n", namespace, "--max-events", "1")
    produce_until_done(listen, client, "s")
    _, err = finish(listen)
    assert "the server refused the saved cursor 999999999" in err
    assert len(app.receipts) == 1
