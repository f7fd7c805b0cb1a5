"""The default router: log every verified event as one JSON line on stdout.

What ``trove webhooks serve`` and ``python -m trove_webhooks`` run when no handler module is
given — a receiver that already does something useful (pipe it to ``jq`` or a log shipper).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import IO, Any

from trove_webhooks.context import DeliveryContext
from trove_webhooks.routing import WebhookRouter

__all__ = ["json_lines_router"]


def json_lines_router(stream: IO[str] | None = None) -> WebhookRouter:
    """A router whose only handler writes ``{"event": ..., "attempt": ...}`` lines."""
    router = WebhookRouter()
    lock = threading.Lock()

    @router.on_any
    def log_event(event: Any, context: DeliveryContext) -> None:
        line = json.dumps(
            {
                "event": event.to_dict(),
                "attempt": context.attempt,
                "received_at": context.received_at.isoformat(),
                "secret_index": context.secret_index,
            },
            separators=(",", ":"),
        )
        out = stream or sys.stdout
        with lock:
            out.write(line + "\n")
            out.flush()

    return router
