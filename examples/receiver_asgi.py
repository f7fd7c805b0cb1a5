"""A production receiver as a plain ASGI app: typed handlers, replay window, dedupe in SQLite.

    export TROVE_WEBHOOK_SECRET=trove-whsec-...      # from `trove webhooks create`
    uvicorn examples.receiver_asgi:app --port 8000   # or: python examples/receiver_asgi.py

Subscribe it with ``trove webhooks create http://localhost:8000/trove/events`` (or forward a
remote workspace to it with ``trove webhooks listen``).
"""

from __future__ import annotations

import os

from trove_sdk import Event, ExecCompleted, FileDeleted, FileWritten
from trove_webhooks import DeliveryContext, WebhookRouter, create_app

hooks = WebhookRouter()


@hooks.on(FileWritten)
async def index_file(event: FileWritten) -> None:
    print(
        f"[{event.namespace}] indexed {event.data.path} ({event.data.size_bytes} bytes)", flush=True
    )


@hooks.on(FileDeleted)
async def forget_file(event: FileDeleted) -> None:
    print(f"[{event.namespace}] forgot {event.data.path}", flush=True)


@hooks.on(ExecCompleted)
def audit_command(event: ExecCompleted, context: DeliveryContext) -> None:
    # A sync handler runs in a thread pool; the context says which attempt this is.
    status = "ok" if event.data.exit_code == 0 else f"exit {event.data.exit_code}"
    print(
        f"[{event.namespace}] ran {event.data.command!r}: {status} (attempt {context.attempt})",
        flush=True,
    )


@hooks.on_any
async def count(event: Event) -> None:
    pass  # every event, including types newer than this code, reaches on_any handlers


app = create_app(
    hooks,
    secret=os.environ["TROVE_WEBHOOK_SECRET"].split(","),  # comma-separated during a rotation
    store=os.environ.get("TROVE_WEBHOOKS_STORE", "sqlite:///trove-receiver.db"),
    path="/trove/events",
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
