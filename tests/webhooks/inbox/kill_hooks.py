"""Handlers for worker processes killed mid-handler (``trove webhooks worker`` loads them).

Each run logs ``<event id> <pid> start-<attempt>`` and ``done-<attempt>`` to ``HOOKS_LOG``;
the first attempt then blocks for a minute, long enough to be killed in the middle of it.
"""

from __future__ import annotations

import time

from tests.webhooks.process_hooks import log
from trove_sdk import FileWritten
from trove_webhooks import DeliveryContext, WebhookRouter

router = WebhookRouter()


@router.on(FileWritten)
def slow_first_attempt(event: FileWritten, context: DeliveryContext) -> None:
    log(event.id, f"start-{context.attempt}")
    if context.attempt == 1:
        time.sleep(60)
    log(event.id, f"done-{context.attempt}")
