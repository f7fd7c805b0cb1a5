"""Runs inside a virtual environment holding only the published ``trove-sdk==0.7.6``.

Calls every method of its ``TroveClient``, ``AsyncTroveClient``, ``TroveAdminClient`` and
``AsyncTroveAdminClient`` against the server named by ``TROVE_BASE_URL``, checks its
``verify_webhook`` on a delivery the server made to a receiver started here, and prints what
it saw as one JSON object for the test to assert on. Standard library + trove-sdk 0.7.6 only.
"""

import asyncio
import dataclasses
import http.server
import importlib.metadata
import json
import os
import sys
import threading
import time
import uuid

import trove_sdk
from trove_sdk import (
    AsyncTroveAdminClient,
    AsyncTroveClient,
    TroveAdminClient,
    TroveClient,
    TroveError,
    WebhookSignatureError,
    verify_webhook,
)

BASE = os.environ["TROVE_BASE_URL"]
API_KEY = os.environ["TROVE_API_KEY"]
ADMIN_KEY = os.environ["TROVE_ADMIN_KEY"]
WORKSPACE = os.environ["TROVE_WORKSPACE_ID"]
report = {}


def failure(call):
    """The exception class name and status a call raised (None if it did not raise)."""
    try:
        call()
    except TroveError as exc:
        return [type(exc).__name__, exc.status_code]
    return None


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.deliveries = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.deliveries.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, event_type, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for headers, body in self.deliveries:
                if headers.get("X-Trove-Event") == event_type:
                    return headers, body
            time.sleep(0.05)
        raise SystemExit(f"no {event_type} delivery arrived")


def runtime_sync(ns):
    with TroveClient(API_KEY, ns, base_url=BASE) as c:
        w = c.write("workspace/notes/a.md", "hello")
        report["write"] = [w.path, w.size_bytes]
        report["read_text"] = c.read_text("workspace/notes/a.md")
        report["read_file"] = dataclasses.asdict(c.read_file("workspace/notes/a.md"))
        report["read_text_file"] = c.read("workspace/notes/a.md")
        u = c.upload("bin/b.bin", b"\x00\x01\xff")
        report["upload"] = [u.path, u.size_bytes]
        report["read_bytes"] = list(c.read_bytes("workspace/bin/b.bin"))
        full = c.read_bytes_full("bin/b.bin")
        report["read_bytes_full"] = [list(full.content), full.truncated, full.size_bytes]
        report["read_binary"] = list(c.read("workspace/bin/b.bin"))
        report["read_text_of_binary"] = failure(lambda: c.read_text("workspace/bin/b.bin"))
        report["list_dir"] = [[e.name, e.is_dir] for e in c.list_dir()]
        listing = c.list_dir(recursive=True)
        report["list_dir_recursive"] = [[e.path for e in listing], listing.truncated]
        report["exec"] = c.exec("echo hi")
        report["exec_failing"] = c.exec("echo oops >&2; exit 3")
        report["exec_silent"] = c.exec("true")
        d = c.exec_detailed("echo out; echo err >&2; exit 2")
        report["exec_detailed"] = [d.exit_code, d.stdout, d.stderr, d.duration_ms >= 0]
        report["exec_stdin"] = c.exec_detailed("cat", stdin="piped in").stdout
        report["exec_chain"] = c.exec_chain(["cd workspace", "ls"]).stdout
        report["set_init"] = c.set_init("export FROM_INIT=yes\n").path
        report["get_init"] = c.get_init()
        report["init_sourced"] = c.exec_detailed("echo $FROM_INIT").stdout
        report["clear_init"] = [c.clear_init(), c.clear_init(), c.get_init()]
        snap = c.create_snapshot("compat")
        report["create_snapshot"] = [snap.namespace, snap.label, snap.size_bytes > 0]
        report["list_snapshots"] = [s.snapshot_id == snap.snapshot_id for s in c.list_snapshots()]
        c.delete("notes")
        report["restore_snapshot"] = c.restore_snapshot(snap.snapshot_id)
        report["restored_text"] = c.read_text("workspace/notes/a.md")
        c.delete_snapshot(snap.snapshot_id)
        report["list_after_delete"] = len(c.list_snapshots())
        report["delete"] = c.delete("workspace/bin/b.bin")
        report["missing"] = failure(lambda: c.read_file("workspace/missing.png"))
        report["timeout"] = failure(lambda: c.exec_detailed("sleep 30"))
        report["delete_missing_snapshot"] = failure(lambda: c.delete_snapshot("snap-nope"))


async def runtime_async(ns):
    async with AsyncTroveClient(API_KEY, ns, base_url=BASE) as c:
        await c.write("a.txt", "async")
        await c.upload("b.bin", b"\xfe")
        results = {
            "read_text": await c.read_text("workspace/a.txt"),
            "read": await c.read("workspace/a.txt"),
            "read_file": (await c.read_file("workspace/a.txt")).encoding,
            "read_bytes": list(await c.read_bytes("b.bin")),
            "read_bytes_full": (await c.read_bytes_full("b.bin")).size_bytes,
            "list_dir": [e.name for e in await c.list_dir()],
            "exec": await c.exec("echo async"),
            "exec_detailed": (await c.exec_detailed("exit 5")).exit_code,
            "exec_chain": (await c.exec_chain(["echo a", "echo b"])).stdout,
        }
        await c.set_init("true\n")
        results["get_init"] = await c.get_init()
        results["clear_init"] = await c.clear_init()
        snap = await c.create_snapshot(None)
        results["snapshots"] = len(await c.list_snapshots())
        results["restore"] = await c.restore_snapshot(snap.snapshot_id)
        await c.delete_snapshot(snap.snapshot_id)
        results["delete"] = await c.delete("a.txt")
        report["async_client"] = results


def admin_sync(receiver):
    admin = TroveAdminClient.from_api_key(ADMIN_KEY, base_url=BASE)
    report["from_api_key"] = admin._workspace_id == WORKSPACE
    locked = admin.create_key("compat-agent", namespace="locked-ns")
    report["create_key"] = [
        locked.scope,
        locked.namespace,
        locked.api_key.startswith("trove-sk-"),
        locked.prefix == locked.api_key[:12],
    ]
    report["list_keys"] = locked.key_id in [k.key_id for k in admin.list_keys()]
    with TroveClient(locked.api_key, "other-ns", base_url=BASE) as wrong:
        report["locked_key_elsewhere"] = failure(lambda: wrong.list_dir())
    with TroveClient(locked.api_key, "locked-ns", base_url=BASE) as right:
        report["locked_key_home"] = right.write("ok.txt", "ok").path
    admin.revoke_key(locked.key_id)
    with TroveClient(locked.api_key, "locked-ns", base_url=BASE) as revoked:
        report["revoked_key"] = failure(lambda: revoked.list_dir())
    report["revoke_unknown"] = failure(lambda: admin.revoke_key("key-nope"))
    with TroveAdminClient(API_KEY, WORKSPACE, base_url=BASE) as not_admin:
        report["workspace_key_on_keys"] = failure(lambda: not_admin.list_keys())

    hook = admin.create_webhook(receiver.url, events=["file.written"], description="compat")
    report["create_webhook"] = [
        hook.url == receiver.url,
        hook.events,
        hook.enabled,
        hook.signing_secret.startswith("trove-whsec-"),
    ]
    report["list_webhooks"] = hook.webhook_id in [w.webhook_id for w in admin.list_webhooks()]
    test = admin.test_webhook(hook.webhook_id)
    report["test_webhook"] = [test.ok, test.status, test.event_id.startswith("evt-")]
    headers, body = receiver.wait_for("webhook.test")
    event = verify_webhook(
        secret=hook.signing_secret, body=body, signature_header=headers["X-Trove-Signature"]
    )
    report["verified_test_delivery"] = [event.type, event.id == test.event_id]
    with TroveClient(API_KEY, "hooked", base_url=BASE) as c:
        c.write("fired.txt", "x")
    headers, body = receiver.wait_for("file.written")
    event = verify_webhook(
        secret=hook.signing_secret, body=body, signature_header=headers["X-Trove-Signature"]
    )
    report["verified_delivery"] = [
        event.type,
        event.namespace,
        event.data.get("path"),
        event.workspace_id == WORKSPACE,
        event.api_version,
    ]
    try:
        verify_webhook(
            secret="trove-whsec-wrong", body=body, signature_header=headers["X-Trove-Signature"]
        )
        report["wrong_secret"] = "accepted"
    except WebhookSignatureError:
        report["wrong_secret"] = "rejected"
    admin.delete_webhook(hook.webhook_id)
    report["delete_webhook"] = failure(lambda: admin.delete_webhook(hook.webhook_id))
    admin.close()


async def admin_async(receiver):
    admin = await AsyncTroveAdminClient.from_api_key(ADMIN_KEY, base_url=BASE)
    key = await admin.create_key(f"async-{uuid.uuid4().hex[:6]}")
    keys = [k.key_id for k in await admin.list_keys()]
    await admin.revoke_key(key.key_id)
    hook = await admin.create_webhook(receiver.url)
    hooks = [w.webhook_id for w in await admin.list_webhooks()]
    test = await admin.test_webhook(hook.webhook_id)
    await admin.delete_webhook(hook.webhook_id)
    report["async_admin"] = [key.key_id in keys, hook.webhook_id in hooks, test.ok, hook.events]
    await admin.aclose()


def main():
    report["version"] = importlib.metadata.version("trove-sdk")
    report["installed_in"] = trove_sdk.__file__
    runtime_sync(f"compat-{uuid.uuid4().hex[:8]}")
    asyncio.run(runtime_async(f"compat-{uuid.uuid4().hex[:8]}"))
    receiver = Receiver()
    admin_sync(receiver)
    asyncio.run(admin_async(receiver))
    json.dump(report, sys.stdout)


main()
