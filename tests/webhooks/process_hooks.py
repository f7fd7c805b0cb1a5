"""Handlers for tests that run receivers as separate processes (``python -m trove_webhooks``).

Each handler run appends ``<event id> <pid> <phase>`` to the file named by ``HOOKS_LOG`` (one
short ``O_APPEND`` write per line, so lines from several processes never interleave). A
``file.written`` event whose path contains ``slow`` blocks for a minute after logging
``start`` — long enough to be killed mid-handler.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

from trove_sdk import FileWritten
from trove_webhooks import DeliveryContext, WebhookRouter

router = WebhookRouter()


def log(event_id: str, phase: str) -> None:
    fd = os.open(os.environ["HOOKS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{event_id} {os.getpid()} {phase}\n".encode())
    finally:
        os.close(fd)


@router.on(FileWritten)
def on_file(event: FileWritten) -> None:
    if "slow" in event.data.path:
        log(event.id, "start")
        time.sleep(float(os.environ.get("HOOKS_SLOW_SECONDS", "60")))
    log(event.id, "done")


@router.on("exec.completed")
async def on_exec(event: Any) -> None:
    log(event.id, "done")


def read_log(path: str) -> list[tuple[str, str, str]]:
    try:
        with open(path) as f:
            return [tuple(line.split()) for line in f if line.strip()]  # type: ignore[misc]
    except FileNotFoundError:
        return []


chaos_router = WebhookRouter()


@chaos_router.on(FileWritten)
async def chaos(event: FileWritten, context: DeliveryContext) -> None:
    """A few milliseconds of I/O; paths containing ``fail-once`` fail their first attempt."""
    log(event.id, "start")
    await asyncio.sleep(random.uniform(0.001, 0.006))
    if "fail-once" in event.data.path and context.attempt == 1:
        log(event.id, "fail")
        raise RuntimeError("injected failure")
    log(event.id, "done")
