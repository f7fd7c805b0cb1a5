"""Trove webhooks in a Flask (WSGI) application: no event loop needed, sync stores.

export TROVE_WEBHOOK_SECRET=trove-whsec-...
flask --app examples.receiver_flask run --port 8000
"""

from __future__ import annotations

import os

from flask import Flask

from trove_sdk import Event, KeyRevoked, NamespaceDeleted
from trove_webhooks import WebhookRouter
from trove_webhooks.flask import init_app

hooks = WebhookRouter()


@hooks.on(KeyRevoked)
def close_sessions(event: KeyRevoked) -> None:
    print(f"key {event.data.key_id} revoked: closing its sessions", flush=True)


@hooks.on(NamespaceDeleted)
def archive(event: NamespaceDeleted) -> None:
    print(
        f"namespace {event.data.namespace} deleted ({event.data.files_deleted} files)", flush=True
    )


@hooks.on_any
def log_every_event(event: Event) -> None:  # type: ignore[type-arg]
    print(f"event {event.type} {event.id}", flush=True)


app = Flask(__name__)
init_app(
    app,
    hooks,
    secret=os.environ["TROVE_WEBHOOK_SECRET"],
    path="/trove/events",
    store=os.environ.get("TROVE_WEBHOOKS_STORE", "sqlite:///trove-receiver.db"),
)

if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8000")))
