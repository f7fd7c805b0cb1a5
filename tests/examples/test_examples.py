"""Every example runs against a fresh local server and does what its docstring promises."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from trove_sdk import TroveAdminClient, TroveClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh server for the examples (fast webhook retries so receivers settle quickly)."""
    from trove_server.testing import run_server

    with run_server(tmp_path_factory.mktemp("examples"), retry_schedule=(0.1, 0.2, 0.5)) as handle:
        yield handle


@pytest.fixture
def env(server: Any, tmp_path: Path) -> dict[str, str]:
    """A fresh workspace per example, passed the way the examples document: TROVE_* variables."""
    creds = server.create_workspace("example")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TROVE_")},
        "TROVE_BASE_URL": server.base_url,
        "TROVE_API_KEY": creds.api_key,
        "TROVE_ADMIN_KEY": creds.admin_key,
        "TROVE_WORKSPACE_ID": creds.workspace_id,
        "TROVE_NAMESPACE": "demo",
        "PYTHONUNBUFFERED": "1",
        "HOME": str(tmp_path),
    }


def run_example(name: str, env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_agent_loop_recovers_from_a_failed_step_and_leaves_a_note(env: dict[str, str]) -> None:
    out = run_example("agent_loop.py", env)
    # init.sh moved every command into the project (/trove/workspace/project in the sandbox)
    assert out.split("project=weather cwd=")[1].split()[0].endswith("/workspace/project")
    assert "mean=17.0" in out
    assert "creating it and retrying" in out
    # Above the 20° threshold written on recovery: Cairo and Perth, not Lima (19°).
    above = out.split("$2 > t { print $1 }' data.csv\n")[1].split("(")[0].split()
    assert above == ["Cairo", "Perth"]
    assert "report dir: " in out and out.split("report dir: ")[1].split("\n")[0].endswith(
        "workspace/reports"
    )
    assert "last_session: |" in out and "Weather project" in out


def test_async_client_runs_work_concurrently(env: dict[str, str]) -> None:
    out = run_example("async_client.py", env)
    assert "wrote 20 files concurrently" in out
    assert "20/20 checksums computed" in out
    assert "20 files, 210 lines in total" in out


def test_webhook_example_verifies_a_test_and_a_real_delivery(env: dict[str, str]) -> None:
    out = run_example("webhook.py", env)
    assert "test delivery: ok=True status=204" in out
    assert "verified: webhook.test" in out
    assert "verified: file.written workspace/hello.txt (16 bytes)" in out
    with _admin(env) as admin:
        assert admin.list_webhooks() == []  # the example cleans up after itself


def _admin(env: dict[str, str]) -> TroveAdminClient:
    return TroveAdminClient(
        env["TROVE_ADMIN_KEY"], env["TROVE_WORKSPACE_ID"], base_url=env["TROVE_BASE_URL"]
    )


def test_the_three_key_pattern(env: dict[str, str], tmp_path: Path) -> None:
    exports = run_example(
        "sessions/provision.py",
        {k: v for k, v in env.items() if k != "TROVE_API_KEY"},
        "session-42",
    )
    session = dict(env)
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        session[name] = value.strip("'")
    assert session["TROVE_NAMESPACE"] == "session-42"
    assert session["TROVE_API_KEY"] != env["TROVE_API_KEY"]

    out = run_example("sessions/runtime.py", session)
    assert "is locked to namespace 'session-42'" in out
    assert "notes.md" in out
    assert "other namespace refused: HTTP 403" in out

    with TroveClient(env["TROVE_API_KEY"], "other-team", base_url=env["TROVE_BASE_URL"]) as other:
        other.write("workspace/plan.md", "# plan\n")
    out = run_example("sessions/dashboard.py", env)
    assert "session-42: 1 files" in out
    assert "other-team: 1 files" in out
    assert "workspace/plan.md (7 B" in out


# --- receivers: each adapter under a real server, fed by the local Trove server --------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A child process whose stdout lines arrive on a queue."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if text in line:
                return line
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"never saw {text!r}; output:\n" + "\n".join(self.seen))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pump_thread.join(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _wait_until_listening(port: int, proc: Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert proc.proc.poll() is None, "\n".join(proc.seen)
        time.sleep(0.1)
    raise AssertionError("receiver never started listening")


@pytest.fixture
def receiver(env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """Start an example receiver subscribed to the workspace; yields (process, admin client)."""
    started: list[Process] = []

    def start(
        name: str, *, runner: list[str] | None = None, events: list[str] | None = None
    ) -> Process:
        port = _free_port()
        with _admin(env) as admin:
            hook = admin.create_webhook(f"http://127.0.0.1:{port}/trove/events", events=events)
        child_env = {
            **env,
            "PORT": str(port),
            "TROVE_WEBHOOK_SECRET": hook.signing_secret,
            "TROVE_WEBHOOKS_STORE": f"sqlite:///{tmp_path / 'receiver.db'}",
            "PYTHONPATH": str(ROOT),
        }
        command = runner or [sys.executable, str(EXAMPLES / name)]
        process = Process(
            [*command, "--port", str(port)] if runner else command, child_env, tmp_path
        )
        started.append(process)
        _wait_until_listening(port, process)
        return process

    yield start
    for process in started:
        process.stop()


def test_receiver_asgi_routes_typed_events(receiver: Any, env: dict[str, str]) -> None:
    proc = receiver("receiver_asgi.py")
    with TroveClient(env["TROVE_API_KEY"], "alice", base_url=env["TROVE_BASE_URL"]) as trove:
        trove.write("workspace/a.txt", "hello")
        trove.exec_detailed("rm workspace/a.txt")
    proc.wait_for("[alice] indexed workspace/a.txt (5 bytes)")
    proc.wait_for("[alice] ran 'rm workspace/a.txt': ok (attempt 1)")
    proc.wait_for("[alice] forgot workspace/a.txt")


def test_receiver_fastapi_routes_and_verifies_a_custom_endpoint(
    receiver: Any, env: dict[str, str]
) -> None:
    proc = receiver("receiver_fastapi.py")
    with TroveClient(env["TROVE_API_KEY"], "bob", base_url=env["TROVE_BASE_URL"]) as trove:
        trove.write("workspace/b.txt", "x")
        snap = trove.create_snapshot("nightly")
    proc.wait_for("[bob] wrote workspace/b.txt")
    proc.wait_for(f"[bob] snapshot {snap.snapshot_id} label=nightly")
    # The custom endpoint refuses an unsigned request.
    with _admin(env) as admin:
        url = admin.list_webhooks()[0].url.replace("/trove/events", "/audit")
    assert httpx.post(url, json={"id": "evt-forged"}).status_code == 400


def test_receiver_flask_handles_workspace_level_events(receiver: Any, env: dict[str, str]) -> None:
    proc = receiver("receiver_flask.py")
    with _admin(env) as admin:
        key = admin.create_key("short-lived", namespace="carol")
        with TroveClient(key.api_key, "carol", base_url=env["TROVE_BASE_URL"]) as trove:
            trove.write("workspace/c.txt", "c")
        admin.revoke_key(key.key_id)
        admin.delete_namespace("carol")
    proc.wait_for(f"key {key.key_id} revoked: closing its sessions")
    proc.wait_for("namespace carol deleted (1 files)")
    proc.wait_for("event key.created")
