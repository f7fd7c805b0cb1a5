"""The two-minute tour: a local Trove, a typed webhook receiver, and an agent session.

    python3 dev.py demo                 # from a fresh clone (creates .venv, installs, runs this)
    python examples/quickstart.py [--keep-running]

1. Starts the local Trove server (``trove dev``; reused if one is already running).
2. Starts a receiver built with ``trove_webhooks`` — typed handlers, signature verification,
   replay window, dedupe — and subscribes it to the session's namespace.
3. Runs a short agent session through the SDK: files, commands with ``init.sh``, a snapshot
   taken and restored.
4. Prints each verified, typed event as it arrives, replays two deliveries to show them
   absorbed as duplicates, and ends with a summary.

Ctrl-C stops everything it started; ``--keep-running`` leaves the stack up for you to explore.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from trove_cli.config import Config, trove_home
from trove_sdk import (
    Event,
    ExecCompleted,
    FileDeleted,
    FileWritten,
    SnapshotCreated,
    SnapshotRestored,
    TroveAdminClient,
    TroveClient,
    TroveError,
    sample_event,
    sign_webhook,
)
from trove_webhooks import WebhookRouter, create_app

DESCRIPTION = "quickstart receiver"
SETTLE_SECONDS = 30.0


def say(text: str = "") -> None:
    print(text, flush=True)


# --- 1. the local Trove ---------------------------------------------------------------------


@dataclass
class LocalTrove:
    base_url: str
    api_key: str = field(repr=False)
    admin_key: str = field(repr=False)
    workspace_id: str
    process: subprocess.Popen[str] | None = None  # None when we reuse a running one
    log_path: Path | None = None

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)


def _terminate(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _profiles() -> LocalTrove | None:
    config = Config()
    try:
        runtime, admin = config.get("local"), config.get("local-admin")
    except LookupError:
        return None
    return LocalTrove(runtime.base_url, runtime.api_key, admin.api_key, runtime.workspace_id)


def _answers(trove: LocalTrove) -> bool:
    try:
        response = httpx.get(
            f"{trove.base_url}/v1/me",
            headers={"Authorization": f"Bearer {trove.api_key}"},
            timeout=2,
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_local_trove() -> LocalTrove:
    running = _profiles()
    if running is not None and _answers(running):
        say(f"● Reusing the local Trove already running at {running.base_url}")
        return running
    port = "8787" if _port_free(8787) else "0"
    log_path = trove_home() / "quickstart-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from trove_cli.main import main; main()", "dev", "--port", port],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own session: a Ctrl-C at the terminal reaches only us, so we can still remove
        # the webhook subscription through the server before stopping it ourselves.
        start_new_session=True,
    )
    say(f"● Starting the local Trove (trove dev; log: {log_path})")
    try:
        return _wait_until_up(process, log_path)
    except BaseException:  # Ctrl-C or a failed start: don't leave a server behind
        _terminate(process)
        raise


def _wait_until_up(process: subprocess.Popen[str], log_path: Path) -> LocalTrove:
    deadline = time.monotonic() + 60
    isolation = "unknown"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"trove dev exited with {process.returncode}; see {log_path}")
        text = log_path.read_text()
        found = re.search(r"isolation: (\S+)", text)
        isolation = found.group(1) if found else isolation
        if "local Trove at" in text:
            trove = _profiles()
            if trove is not None and _answers(trove):
                trove.process, trove.log_path = process, log_path
                say(f"  server   {trove.base_url}   workspace {trove.workspace_id}")
                if isolation == "none":
                    say("  isolation: none — bubblewrap is not installed, so commands are NOT")
                    say("  sandboxed (apt-get install bubblewrap to isolate them)")
                else:
                    say(f"  isolation: {isolation}")
                return trove
        time.sleep(0.2)
    raise SystemExit(f"the local Trove did not start within 60 s; see {log_path}")


# --- 2. the receiver --------------------------------------------------------------------------


class Receiver:
    """A ``trove_webhooks`` app under uvicorn in a thread, printing each typed event."""

    def __init__(self, secret: str, store_path: Path) -> None:
        self.seen: Counter[str] = Counter()
        self.ids: set[str] = set()
        self._lock = threading.Lock()
        hooks = WebhookRouter()

        @hooks.on(FileWritten)
        def file_written(event: FileWritten) -> None:
            self._show(
                event, f"{event.data.path}  ({event.data.size_bytes} B, via {event.data.source})"
            )

        @hooks.on(FileDeleted)
        def file_deleted(event: FileDeleted) -> None:
            self._show(event, event.data.path)

        @hooks.on(ExecCompleted)
        def exec_completed(event: ExecCompleted) -> None:
            command = (
                event.data.command
                if len(event.data.command) < 48
                else event.data.command[:47] + "…"
            )
            self._show(
                event, f"{command}  exit={event.data.exit_code}  ({event.data.duration_ms} ms)"
            )

        @hooks.on(SnapshotCreated)
        def snapshot_created(event: SnapshotCreated) -> None:
            self._show(event, f"{event.data.snapshot_id}  label={event.data.label}")

        @hooks.on(SnapshotRestored)
        def snapshot_restored(event: SnapshotRestored) -> None:
            self._show(event, f"{event.data.snapshot_id}  files={event.data.files_restored}")

        @hooks.on_any
        def everything(event: Event[Any]) -> None:
            with self._lock:
                self.ids.add(event.id)

        store = f"sqlite:///{store_path}"
        self.app = create_app(hooks, secret=secret, store=store, path="/trove/events")
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/trove/events"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def _show(self, event: Event[Any], summary: str) -> None:
        with self._lock:
            self.seen[event.type] += 1
        say(f"  ✓ verified  {event.type:<18} {summary}")

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()

    def counts(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (status, _type), n in self.app.state.metrics.counts().items():
            totals[status] += n
        return totals


# --- 3. the agent session ---------------------------------------------------------------------


def agent_session(trove: TroveClient) -> None:
    say(f"● Agent session in namespace {trove.namespace!r} (✓ lines: the receiver, live)")
    trove.write("workspace/notes/plan.md", "# Plan\n1. gather data\n2. build report\n")
    trove.set_init("cd workspace\nexport PROJECT=quickstart\n")
    result = trove.exec_detailed('echo "$PROJECT in $(pwd)" && ls')
    say(f"    exec → {result.stdout.strip().splitlines()[0]}  (init.sh sourced first)")
    chain = trove.exec_chain(["mkdir -p build", "cd build", "echo ok > artifact.txt", "pwd"])
    say(f"    exec_chain → cd held across steps: {chain.stdout.strip()}")
    trove.upload("workspace/data.bin", secrets.token_bytes(2048))
    snapshot = trove.create_snapshot("before-cleanup")
    say(f"    snapshot {snapshot.snapshot_id} ({snapshot.size_bytes} B)")
    trove.delete("workspace/notes")
    restored = trove.restore_snapshot(snapshot.snapshot_id)
    text = trove.read_text("workspace/notes/plan.md")
    say(f"    deleted notes/, restored {restored} files: plan.md is back ({len(text)} chars)")


def wait_for_events(admin: TroveAdminClient, namespace: str, receiver: Receiver) -> int:
    deadline = time.monotonic() + SETTLE_SECONDS
    expected = 0
    while time.monotonic() < deadline:
        expected = sum(1 for _ in admin.iter_events(namespace=namespace))
        if expected and len(receiver.ids) >= expected:
            break
        time.sleep(0.2)
    return expected


def replay_duplicates(admin: TroveAdminClient, webhook_id: str, receiver: Receiver) -> None:
    """Ask the server to deliver two already-delivered events again: the receiver's dedupe
    absorbs them (200 "duplicate", handlers not run)."""
    delivered = [d for d in admin.list_deliveries(webhook_id, limit=50).deliveries if d.ok][:2]
    before = receiver.counts()["duplicate"]
    for delivery in delivered:
        admin.retry_delivery(webhook_id, delivery.delivery_id)
    deadline = time.monotonic() + 10
    while receiver.counts()["duplicate"] < before + len(delivered) and time.monotonic() < deadline:
        time.sleep(0.1)


def forged_delivery(receiver: Receiver) -> int:
    """A delivery signed with the wrong secret: refused with 400, never reaches a handler."""
    body = httpx.Request("POST", "http://x", json=sample_event("file.written")).content
    response = httpx.post(
        receiver.url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Trove-Signature": sign_webhook("trove-whsec-forged", body),
        },
    )
    return response.status_code


# --- the whole run ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="Trove kit quickstart")
    parser.add_argument(
        "--keep-running", action="store_true", help="leave the server and receiver up"
    )
    args = parser.parse_args()

    local: LocalTrove | None = None
    admin: TroveAdminClient | None = None
    receiver: Receiver | None = None
    webhook_id: str | None = None
    namespace = f"quickstart-{secrets.token_hex(3)}"
    try:
        local = start_local_trove()
        admin = TroveAdminClient(local.admin_key, local.workspace_id, base_url=local.base_url)
        for stale in admin.list_webhooks():  # from an earlier run that was killed
            if stale.description == DESCRIPTION:
                admin.delete_webhook(stale.webhook_id)
        store = trove_home() / "quickstart-receiver.db"
        # The signing secret exists once the subscription does; the receiver needs it, and
        # the subscription needs the receiver's URL — so reserve the port first.
        placeholder = Receiver("trove-whsec-placeholder", store)
        hook = admin.create_webhook(placeholder.url, namespace=namespace, description=DESCRIPTION)
        webhook_id = hook.webhook_id
        placeholder.socket.close()
        receiver = Receiver(hook.signing_secret, store)
        if receiver.url != placeholder.url:
            admin.update_webhook(hook.webhook_id, url=receiver.url)
        receiver.start()
        say(f"● Receiver (trove_webhooks, typed handlers) at {receiver.url}")
        say(f"  subscribed {hook.webhook_id} to events of namespace {namespace!r}")
        say()

        with TroveClient(
            local.api_key, namespace, base_url=local.base_url, workspace_id=local.workspace_id
        ) as trove:
            agent_session(trove)
        sent = wait_for_events(admin, namespace, receiver)
        replay_duplicates(admin, hook.webhook_id, receiver)
        rejected = forged_delivery(receiver)
        counts = receiver.counts()
        say()
        say("● Summary")
        say(f"  events sent by Trove        {sent}")
        say(f"  delivered and verified      {len(receiver.ids)}")
        say(f"  duplicates absorbed         {counts['duplicate']}  (handlers not rerun)")
        say(f"  forged delivery             rejected with HTTP {rejected}")
        ok = sent > 0 and len(receiver.ids) == sent and counts["duplicate"] >= 1 and rejected == 400
        say("  result                      " + ("OK" if ok else "INCOMPLETE"))
        say()
        if args.keep_running:
            say("● Still running (Ctrl-C to stop). Try:")
            say(f"    trove ls -n {namespace} -l")
            say(f"    trove run -n {namespace} 'cat workspace/notes/plan.md'")
            say("    trove tail")
            say(f"    open {local.base_url}/dashboard  (use the link printed by `trove dev`)")
            while True:
                time.sleep(3600)
        elif local.process is not None:
            say("● Stopping. Start the same stack again any time with `trove dev`")
            say(f"  (profiles 'local' and 'local-admin' are in {trove_home() / 'config.json'}).")
        return 0 if ok else 1
    except KeyboardInterrupt:
        say("\n● Interrupted: cleaning up")
        return 130
    except TroveError as exc:
        say(f"✗ {exc}")
        return 1
    finally:
        if receiver is not None:
            receiver.stop()
        if admin is not None:
            if webhook_id is not None:
                with contextlib.suppress(TroveError):
                    admin.delete_webhook(webhook_id)
                    say(f"  removed the webhook subscription {webhook_id}")
            admin.close()
        if local is not None and local.process is not None:
            local.stop()
            say("  stopped the local Trove")


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    if shutil.which("bwrap") is None:
        say("note: bubblewrap (bwrap) is not installed — commands will run without a sandbox")
    sys.exit(main())
