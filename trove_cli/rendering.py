"""One event as one line (CONTRACT §5.6), from the typed event classes of ``trove_sdk``.

``<time:14>  <type:18>  <namespace:16>  <summary>``. Each catalogued class has a colour and a
summary of its typed ``data`` in ``RENDERERS``; a test checks it covers ``EVENT_TYPES``, so a
new event type cannot silently fall back to raw JSON. Unknown types (a newer server) show
their data as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trove_cli.humanize import format_size, short_time
from trove_cli.output import Stream
from trove_sdk import (
    Event,
    ExecCompleted,
    FileDeleted,
    FileWritten,
    KeyCreatedEvent,
    KeyRevoked,
    NamespaceDeleted,
    SnapshotCreated,
    SnapshotDeleted,
    SnapshotRestored,
    WebhookTest,
    WorkspaceCreatedEvent,
)

__all__ = ["RENDERERS", "Renderer", "event_json", "event_line", "short_namespace", "summary"]

_COMMAND_WIDTH = 60


@dataclass(frozen=True)
class Renderer:
    colour: str
    summary: Callable[[Any, bool], str]


def _file_written(event: FileWritten, verbose: bool) -> str:
    size = event.data.size_bytes
    return event.data.path + (f"  ({format_size(size)})" if size is not None else "")


def _exec_completed(event: ExecCompleted, verbose: bool) -> str:
    data = event.data
    command = data.command.strip().replace("\n", " ")
    if not verbose and len(command) > _COMMAND_WIDTH:
        command = command[: _COMMAND_WIDTH - 3] + "…"
    line = f"{command}  exit={data.exit_code}  ({data.duration_ms}ms)"
    if verbose:
        first = data.stdout.strip().split("\n", 1)[0]
        if first:
            line += f"\n    > {first}"
    return line


def _json_data(event: Event[Any], verbose: bool) -> str:
    data = event.to_dict()["data"]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)[:80]


RENDERERS: dict[type[Event[Any]], Renderer] = {
    FileWritten: Renderer("green", _file_written),
    FileDeleted: Renderer("red", lambda e, v: e.data.path),
    ExecCompleted: Renderer("yellow", _exec_completed),
    SnapshotCreated: Renderer(
        "cyan", lambda e, v: f"{e.data.snapshot_id}  label={e.data.label or '-'}"
    ),
    SnapshotRestored: Renderer(
        "cyan", lambda e, v: f"{e.data.snapshot_id}  files={e.data.files_restored}"
    ),
    SnapshotDeleted: Renderer("cyan", lambda e, v: e.data.snapshot_id),
    NamespaceDeleted: Renderer("red", lambda e, v: e.data.namespace),
    WorkspaceCreatedEvent: Renderer("blue", _json_data),
    KeyCreatedEvent: Renderer(
        "magenta", lambda e, v: f"{e.data.key_id}  name={e.data.name or '-'}"
    ),
    KeyRevoked: Renderer("magenta", lambda e, v: e.data.key_id),
    WebhookTest: Renderer("white", lambda e, v: e.data.message),
}
_UNKNOWN = Renderer("white", _json_data)


def short_namespace(namespace: str | None) -> str:
    if not namespace:
        return "-"
    return namespace if len(namespace) <= 16 else namespace[:13] + "…"


def summary(event: Event[Any], *, verbose: bool = False) -> str:
    return RENDERERS.get(type(event), _UNKNOWN).summary(event, verbose)


def event_line(
    event: Event[Any],
    stream: Stream,
    *,
    verbose: bool = False,
    now: datetime | None = None,
) -> str:
    """The human line for ``event``, styled for ``stream``."""
    renderer = RENDERERS.get(type(event), _UNKNOWN)
    kind = stream.style(f"{event.type:<18}", fg=renderer.colour, bold=True)
    return (
        f"{short_time(event.created_at, now=now):<14}  {kind}  "
        f"{short_namespace(event.namespace):<16}  {renderer.summary(event, verbose)}"
    )


def event_json(event: Event[Any], payload: str | None = None) -> str:
    """The event as one compact JSON line: the server's own text when we have it."""
    if payload is not None and "\n" not in payload:
        return payload
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False)
