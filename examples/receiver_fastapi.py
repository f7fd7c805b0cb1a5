"""Trove webhooks inside a FastAPI application: a router for typed handlers, plus a custom
endpoint that takes the verified event as a dependency.

    export TROVE_WEBHOOK_SECRET=trove-whsec-...
    uvicorn examples.receiver_fastapi:api --port 8000
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from trove_sdk import Event, SnapshotCreated
from trove_webhooks import WebhookRouter
from trove_webhooks.fastapi import create_router, verified_event

SECRET = os.environ["TROVE_WEBHOOK_SECRET"]
hooks = WebhookRouter()


@hooks.on(SnapshotCreated)
async def remember_snapshot(event: SnapshotCreated) -> None:
    print(
        f"[{event.namespace}] snapshot {event.data.snapshot_id} label={event.data.label}",
        flush=True,
    )


@hooks.on("file.written")
async def on_write(event: Event[Any]) -> None:
    print(f"[{event.namespace}] wrote {event.data.path}", flush=True)


api = FastAPI(title="my agent platform")
# Deliveries at POST /trove/events: verified, replay-checked, deduplicated, routed.
api.include_router(
    create_router(hooks, secret=SECRET, store=os.environ.get("TROVE_WEBHOOKS_STORE"))
)


@api.post("/audit")
async def audit(
    event: Annotated[Event[Any], Depends(verified_event(secret=SECRET))],
) -> dict[str, str]:
    """A hand-written endpoint: the dependency answers 400 for anything not signed by Trove."""
    return {"audited": event.id, "type": event.type}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(api, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
