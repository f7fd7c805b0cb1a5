"""The published ``trove-sdk==0.7.6`` ``trove`` CLI, unmodified, against ``trove_server``.

Its entry point runs in a subprocess from the environment ``conftest.py`` builds
(``published_python``), with a temporary ``HOME`` (its profiles live in
``~/.trove/config.json``) and no ``TROVE_*`` variables: ``login`` with a key (the flag and piped
stdin), ``whoami``, ``events list`` (human lines, JSON rows, a second page by cursor), ``tail``
stopped with Ctrl-C once it printed an event made here, and ``webhooks listen`` forwarding to a
receiver started here, where the forwarded delivery verifies with the secret
``webhooks create`` printed and carries the same bytes as the server's own delivery.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import pytest

from trove_sdk import WebhookSignatureError, verify_webhook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name == "nt", reason="stops the CLI with SIGINT (Ctrl-C)"),
]

# What the ``trove`` console script does (entry point ``trove_sdk.cli:main``), through the venv's
# python because the cached venv was built elsewhere and renamed (see conftest.py). SIGINT is
# Ctrl-C as at a terminal even when this suite runs where it is ignored (a background job).
LAUNCH = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from trove_sdk.cli import main; sys.argv[0] = 'trove'; sys.exit(main())"
)
NAMESPACE = "cli-default"
# Characters ``str.splitlines`` ends a line at, which 0.7.6's listen reads the stream with.
AWKWARD = "workspace/naïve\u2028line\u2029par\x85nel ☃.txt"


@dataclass
class Running:
    """A long-running command (``tail``, ``webhooks listen``), its output read as it comes."""

    process: subprocess.Popen[str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str] | None, lines: list[str]) -> None:
        assert stream is not None
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for(self, lines: list[str], text: str, timeout: float = 30) -> str:
        """The first line holding ``text`` (of ``self.out`` or ``self.err``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in list(lines) if text in line]
            if found:
                return found[0]
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(
                    f"never printed {text!r}:\n" + "\n".join(self.out) + "\n" + "\n".join(self.err)
                )
            time.sleep(0.02)

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl-C, then its exit code once it has finished."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class PublishedCLI:
    """``trove ARGS`` as the 0.7.6 release runs it, with ``home`` as the user's home."""

    python: Path
    home: Path
    server: Any  # trove_server.testing.ServerHandle

    def _env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "TZ": "UTC",  # the human lines show local time: make it predictable
        }

    def _argv(self, args: tuple[str, ...]) -> list[str]:
        return [str(self.python), "-c", LAUNCH, *args]

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._argv(args),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self._env(),
            cwd=self.home,
            timeout=60,
        )

    def ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, input=input)
        assert result.returncode == 0, f"trove {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result

    def start(self, *args: str) -> Running:
        process = subprocess.Popen(
            self._argv(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=self._env(),
            cwd=self.home,
        )
        return Running(process)


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver(http.server.ThreadingHTTPServer):
    """Records every POST (path, headers, raw body) and answers 204."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"

    def find(self, match: Callable[[Delivery], bool]) -> Delivery | None:
        return next((d for d in list(self.deliveries) if match(d)), None)

    def wait_for(self, match: Callable[[Delivery], bool], timeout: float = 30) -> Delivery:
        deadline = time.monotonic() + timeout
        while (found := self.find(match)) is None:
            assert time.monotonic() < deadline, f"no such delivery in {self.deliveries}"
            time.sleep(0.02)
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from trove_server.testing import run_server

    # A short keep-alive: 0.7.6's listen must skip the ``: keep-alive`` comment blocks too.
    with run_server(tmp_path_factory.mktemp("published-cli"), sse_keepalive=0.5) as handle:
        yield handle


@pytest.fixture(scope="module")
def cli(
    published_python: Path, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> PublishedCLI:
    return PublishedCLI(published_python, tmp_path_factory.mktemp("home"), server)


@pytest.fixture(scope="module")
def logins(cli: PublishedCLI) -> dict[str, subprocess.CompletedProcess[str]]:
    """The workspace key saved as ``default`` with ``--api-key``, the admin key as ``admin``
    from piped stdin."""
    base_url = cli.server.base_url
    return {
        "flag": cli.run(
            "login", "--api-key", cli.server.api_key, "--base-url", base_url,
            "--namespace", NAMESPACE,
        ),
        "stdin": cli.run(
            "login", "--save-as", "admin", "--base-url", base_url,
            input=cli.server.admin_key + "\n",
        ),
    }  # fmt: skip


@pytest.fixture
def logged_in(cli: PublishedCLI, logins: dict[str, subprocess.CompletedProcess[str]]) -> None:
    for result in logins.values():
        assert result.returncode == 0, result.stdout + result.stderr


def masked(key: str) -> str:
    return f"{key[:14]}…{key[-4:]}"


def fields(text: str) -> dict[str, str]:
    """``name : value`` lines (whoami, webhooks create) as a mapping."""
    pairs = (line.partition(":") for line in text.splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, _, value in pairs}


def human_time(created_at: str) -> str:
    """0.7.6's time column under TZ=UTC: ``HH:MM:SS`` today, ``MM-DD HH:MM:SS`` before."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    clock = created_at[11:19]
    return clock if created_at[:10] == today else f"{created_at[5:10]} {clock}"


def human_line(event: dict[str, Any], summary: str) -> str:
    """0.7.6's event line: time, type, namespace, summary (colours off: not a terminal)."""
    return (
        f"{human_time(event['created_at']):<14}  {event['type']:<18}  "
        f"{event['namespace']:<16}  {summary}"
    )


def test_the_cli_is_the_published_release(cli: PublishedCLI) -> None:
    result = cli.ok("--version")
    assert result.stdout.strip() == "trove, version 0.7.6"
    where = subprocess.run(
        [str(cli.python), "-c", "import trove_sdk.cli; print(trove_sdk.cli.__file__)"],
        capture_output=True, text=True, check=True, cwd=cli.home,  # -c puts the cwd on sys.path
        env={"PATH": os.environ.get("PATH", "")},
    )  # fmt: skip
    assert where.stdout.startswith(str(cli.python.parent.parent))


def test_login_with_a_key_saves_the_profile_our_server_describes(
    cli: PublishedCLI, logins: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    server = cli.server
    by_flag, by_stdin = logins["flag"], logins["stdin"]
    assert by_flag.returncode == 0, by_flag.stderr
    assert by_flag.stdout.strip() == (
        f"saved profile 'default' ({masked(server.api_key)})  "
        f"workspace={server.workspace_id}  namespace={NAMESPACE}  scope=workspace"
    )
    assert by_stdin.returncode == 0, by_stdin.stderr
    assert by_stdin.stdout.strip() == (
        f"saved profile 'admin' ({masked(server.admin_key)})  "
        f"workspace={server.workspace_id}  scope=admin"
    )
    config_file = cli.home / ".trove" / "config.json"
    assert json.loads(config_file.read_text()) == {
        "profiles": {
            "default": {
                "api_key": server.api_key,
                "workspace_id": server.workspace_id,
                "base_url": server.base_url,
                "namespace": NAMESPACE,
            },
            "admin": {
                "api_key": server.admin_key,
                "workspace_id": server.workspace_id,
                "base_url": server.base_url,
            },
        }
    }
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_a_wrong_key_is_refused_at_login(cli: PublishedCLI) -> None:
    result = cli.run(
        "login", "--save-as", "wrong", "--api-key", "trove-sk-" + "0" * 48,
        "--base-url", cli.server.base_url,
    )  # fmt: skip
    assert result.returncode == 1
    assert "auth failed (401)" in result.stderr


def test_whoami_shows_what_v1_me_says_of_each_key(cli: PublishedCLI, logged_in: None) -> None:
    server = cli.server
    with server.client(NAMESPACE) as client:
        me = client.me()
    shown = fields(cli.ok("whoami").stdout)
    assert shown == {
        "profile": "default",
        "workspace": server.workspace_id,
        "api key": masked(server.api_key),
        "base url": server.base_url,
        "key id": me.key_id,
        "key name": me.key_name,
        "scope": "workspace",
        "default namespace": f"{NAMESPACE}  (profile default; overridable with -n)",
    }
    admin = fields(cli.ok("--profile", "admin", "whoami").stdout)
    assert admin["scope"] == "admin"
    assert admin["api key"] == masked(server.admin_key)
    assert admin["default namespace"].startswith("-  ")


def test_events_list_pages_newest_first_in_both_forms(cli: PublishedCLI, logged_in: None) -> None:
    with cli.server.client("listed") as client:
        client.write("workspace/listed.txt", "hello")
        client.exec_detailed("echo done")

    listed = cli.ok("events", "list", "-n", "listed", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["type"], r["namespace"]) for r in rows] == [
        ("exec.completed", "listed"),
        ("file.written", "listed"),
    ]
    assert all(r["id"] == r["event_id"] and r["created_at"].endswith("Z") for r in rows)
    executed, written = rows

    first = cli.ok("events", "list", "-n", "listed", "--limit", "1")
    duration = executed["data"]["duration_ms"]
    assert first.stdout.splitlines() == [human_line(executed, f"echo done  exit=0  ({duration}ms)")]
    cursor = re.search(r"Continue with --cursor (\S+)", first.stderr)
    assert cursor is not None, first.stderr

    second = cli.ok("events", "list", "-n", "listed", "--limit", "1", "--cursor", cursor[1])
    assert second.stdout.splitlines() == [human_line(written, "workspace/listed.txt  (5B)")]

    since = cli.ok(
        "events", "list", "-n", "listed", "--since", "5m", "-t", "file.written", "--json"
    )
    assert [json.loads(line)["id"] for line in since.stdout.splitlines()] == [written["id"]]


def test_tail_prints_a_new_event_once_and_stops_on_ctrl_c(
    cli: PublishedCLI, logged_in: None
) -> None:
    tail = cli.start("tail", "-n", "tailed", "--interval", "0.2")
    try:
        # Printed after it took "now" as its starting point: what is written next is new.
        tail.wait_for(tail.err, f"tailing {cli.server.workspace_id} namespace=tailed")
        with cli.server.client("tailed") as client:
            client.write("workspace/tailed.txt", "abc")
        tail.wait_for(tail.out, "workspace/tailed.txt")
        time.sleep(1.0)  # five more polls from the event's created_at: none may repeat it
        code = tail.interrupt()
    finally:
        tail.stop()
    assert code == 130
    with cli.server.client("tailed") as client:
        [event] = client.list_events(namespace="tailed").events
    assert tail.out == [human_line(event.to_dict(), "workspace/tailed.txt  (3B)")]


def test_webhooks_listen_forwards_the_servers_bytes_signed_with_the_printed_secret(
    cli: PublishedCLI, logged_in: None, receiver: Receiver
) -> None:
    created = cli.ok(
        "--profile", "admin", "webhooks", "create", receiver.base_url + "/direct",
        "--events", "file.written", "--namespace", "hooked",
    )  # fmt: skip
    shown = fields(created.stdout)
    secret, webhook_id = shown["signing_secret"], shown["webhook_id"]
    assert secret.startswith("trove-whsec-")

    listen = cli.start(
        "webhooks", "listen", "--forward-to", receiver.base_url + "/trove/events",
        "--secret", secret,
    )  # fmt: skip
    try:
        listen.wait_for(listen.out, f"✓ connected to workspace {cli.server.workspace_id}")
        with cli.server.client("hooked") as client:
            # 0.7.6 says "connected" before it opens the stream: write until something arrives.
            deadline = time.monotonic() + 30
            i = 0
            while receiver.find(lambda d: d.path == "/trove/events") is None:
                assert time.monotonic() < deadline, "listen forwarded nothing"
                client.write(f"workspace/hooked{i}.txt", "x")
                i += 1
                time.sleep(0.1)
            client.write(AWKWARD, "x")
        forwarded = receiver.wait_for(
            lambda d: d.path == "/trove/events" and json.loads(d.body)["data"]["path"] == AWKWARD
        )
        signature = forwarded.headers["X-Trove-Signature"]
        event = verify_webhook(secret=secret, body=forwarded.body, signature_header=signature)
        line = listen.wait_for(listen.out, event.id)
        code = listen.interrupt()
    finally:
        listen.stop()

    assert (event.type, event.namespace) == ("file.written", "hooked")
    assert forwarded.headers["X-Trove-Event"] == "file.written"
    assert forwarded.headers["X-Trove-Event-Id"] == event.id
    assert forwarded.headers["Content-Type"] == "application/json"
    assert line == f"  ✓  {'file.written':<22} {event.id}  →  204"
    assert code == 0
    assert listen.out[-1] == "Stopped."
    with pytest.raises(WebhookSignatureError):
        verify_webhook(
            secret="trove-whsec-" + "0" * 48,
            body=forwarded.body,
            signature_header=forwarded.headers["X-Trove-Signature"],
        )
    # The server delivered the same event to the subscription itself: same bytes, same secret.
    direct = receiver.wait_for(
        lambda d: d.path == "/direct" and d.headers.get("X-Trove-Event-Id") == event.id
    )
    assert direct.body == forwarded.body
    verify_webhook(
        secret=secret, body=direct.body, signature_header=direct.headers["X-Trove-Signature"]
    )
    cli.ok("--profile", "admin", "webhooks", "delete", "-y", webhook_id)
