"""Subscribe an endpoint to workspace events and verify what it receives.

Starts a tiny HTTP endpoint (standard library only) that checks every delivery with
``verify_webhook``, subscribes it with an admin key, sends a test delivery, then causes a real
event and waits for it.

    export TROVE_BASE_URL=http://127.0.0.1:8787 TROVE_ADMIN_KEY=trove-sk-... \\
           TROVE_API_KEY=trove-sk-... TROVE_WORKSPACE_ID=ws-...
    python examples/webhook.py
"""

from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from trove_sdk import (
    SIGNATURE_HEADER,
    Event,
    TroveAdminClient,
    TroveClient,
    WebhookSignatureError,
    verify_webhook,
)

received: queue.Queue[Event] = queue.Queue()
secrets: list[str] = []


class Endpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = verify_webhook(
                secret=secrets[0], body=body, signature_header=self.headers.get(SIGNATURE_HEADER)
            )
        except WebhookSignatureError as exc:
            self.send_response(400)  # the sender retries; a forger gets nowhere
            self.end_headers()
            self.wfile.write(str(exc).encode())
            return
        received.put(event)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep the output readable
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/trove/events"

    with TroveAdminClient.from_env() as admin:
        hook = admin.create_webhook(
            url, events=["file.written", "webhook.test"], namespace="webhook-example"
        )
        secrets.append(hook.signing_secret)  # shown once: store it like a password
        print(f"subscribed {hook.webhook_id} → {url}")
        try:
            test = admin.test_webhook(hook.webhook_id)
            print(f"test delivery: ok={test.ok} status={test.status} event={test.event_id}")
            print(f"verified: {received.get(timeout=10).type}")

            with TroveClient.from_env("webhook-example") as trove:
                trove.write("workspace/hello.txt", "hello, webhooks\n")
            event = received.get(timeout=30)
            print(f"verified: {event.type} {event.data.path} ({event.data.size_bytes} bytes)")
        finally:
            admin.delete_webhook(hook.webhook_id)
            server.shutdown()


if __name__ == "__main__":
    main()
