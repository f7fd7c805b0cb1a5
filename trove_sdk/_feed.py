"""Workspace-wide reads shared by every client: the events feed (CONTRACT §2.8), the resumable
stream (X1) and the namespace list (X6).

``EventsOps`` builds the feed requests; ``EventStream`` holds the non-I/O half of a stream
subscription — the resume cursor, filters, SSE decoding and reconnect backoff — so the sync and
async twins only open the connection and feed it lines.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from trove_sdk._base import Call, HTTPBase, Op, expect_object, parse_model
from trove_sdk._events import Event, parse_event
from trove_sdk._exceptions import EventParseError, TroveError, error_from_response
from trove_sdk._models import NamespaceInfo
from trove_sdk._sse import SSEDecoder

__all__ = ["EventPage", "EventStream", "EventsOps", "StreamedEvent"]

# Statuses after which reconnecting cannot help: the key, the route or the request is wrong.
_FATAL_STREAM_STATUS = frozenset({400, 401, 403, 404, 405, 410, 422})

# The longest an open stream may stay silent. The server sends a ``: keep-alive`` comment
# every 15 s (CONTRACT X1; trove_server's ``sse_keepalive``), so an idle stream is never quiet
# this long; a half-open connection (a NAT or proxy dropped it, the host vanished without a
# FIN) is, and without a read timeout it would hang for ever. Four keep-alives missed: the
# stream reconnects and resumes from its cursor.
_STREAM_READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class EventPage:
    """One page of the feed, newest first; ``next_cursor`` is None on the last page."""

    events: tuple[Event[Any], ...]
    next_cursor: str | None


@dataclass(frozen=True)
class StreamedEvent:
    """An event from the stream: its resume ``cursor``, the typed event, and ``payload`` — the
    exact JSON text the server sent (what ``webhooks listen`` re-signs and forwards)."""

    cursor: str | None
    event: Event[Any]
    payload: str


def _since_param(since: str | datetime | None) -> str | None:
    if since is None or isinstance(since, str):
        return since
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return since.astimezone(timezone.utc).isoformat()


def _types_param(types: str | Iterable[str] | None) -> str | None:
    if types is None:
        return None
    names = [types] if isinstance(types, str) else list(types)
    joined = ",".join(t.strip() for name in names for t in name.split(",") if t.strip())
    return joined or None


def filter_params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def parse_page(response: httpx.Response) -> EventPage:
    body = expect_object(response)
    try:
        events = tuple(parse_event(row) for row in body.get("events") or ())
    except EventParseError as exc:
        raise TroveError(f"the events feed sent a malformed event: {exc}") from exc
    cursor = body.get("next_cursor")
    return EventPage(events, cursor if isinstance(cursor, str) and cursor else None)


class EventsOps(HTTPBase):
    """Feed and stream requests; ``_workspace_op`` says which workspace the key belongs to."""

    _stream_read_timeout: float = _STREAM_READ_TIMEOUT  # (tests shorten it)

    def _workspace_op(self) -> Op[str]:
        raise NotImplementedError

    def _events_page_op(
        self,
        *,
        since: str | datetime | None,
        types: str | Iterable[str] | None,
        namespace: str | None,
        limit: int | None,
        cursor: str | None,
    ) -> Op[EventPage]:
        if limit is not None and not 1 <= limit <= 200:
            raise ValueError("limit must be between 1 and 200")
        workspace = yield from self._workspace_op()
        params = filter_params(
            since=_since_param(since),
            types=_types_param(types),
            namespace=namespace,
            limit=None if limit is None else str(limit),
            cursor=cursor,
        )
        response = yield Call(
            "GET", f"/v1/workspaces/{workspace}/events", params=params, idempotent=True
        )
        return parse_page(response)

    def _list_namespaces_op(self) -> Op[list[NamespaceInfo]]:
        workspace = yield from self._workspace_op()
        call = Call("GET", f"/v1/workspaces/{workspace}/namespaces", idempotent=True)
        return parse_model(
            (yield call), lambda d: [NamespaceInfo.from_dict(n) for n in d.get("namespaces") or ()]
        )

    def _stream_op(
        self,
        *,
        cursor: str | None,
        types: str | Iterable[str] | None,
        namespace: str | None,
        reconnect: bool,
    ) -> Op[EventStream]:
        workspace = yield from self._workspace_op()
        return EventStream(
            f"/v1/workspaces/{workspace}/webhooks/stream",
            cursor=cursor,
            types=_types_param(types),
            namespace=namespace,
            reconnect=reconnect,
            # Reading waits for the next event or keep-alive, not the client's limit (an idle
            # stream is normal), but never for ever: see _STREAM_READ_TIMEOUT. Connecting and
            # sending keep the client's limit, so a host that has gone silent ends in a
            # reconnect, not a hang.
            timeout=httpx.Timeout(self._timeout, read=self._stream_read_timeout),
        )


class EventStream:
    """State of one subscription across reconnects: no gap, no duplicate.

    The cursor advances only when an event has been handed to the caller, and every
    reconnection asks to resume after it (``Last-Event-ID``), so a dropped connection or a
    server restart loses nothing and repeats nothing.
    """

    def __init__(
        self,
        path: str,
        *,
        cursor: str | None,
        types: str | None,
        namespace: str | None,
        reconnect: bool,
        timeout: httpx.Timeout,
        max_backoff: float = 10.0,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.cursor = cursor
        self.types = types
        self.namespace = namespace
        self.reconnect = reconnect
        self.max_backoff = max_backoff
        self.connected = False
        self.reconnects = 0
        self._failures = 0
        self._decoder = SSEDecoder()
        self._retry_hint: float | None = None

    def request(self) -> Call:
        """The call that (re)opens the stream from the current cursor."""
        self._decoder = SSEDecoder()
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.cursor is not None:
            headers["Last-Event-ID"] = self.cursor
        params = filter_params(types=self.types, namespace=self.namespace)
        return Call("GET", self.path, params=params, headers=headers, timeout=self.timeout)

    def opened(self, response: httpx.Response) -> None:
        """Check the response that opened the stream (its body already read if it failed);
        raises when retrying cannot help."""
        if response.is_success:
            ctype = response.headers.get("content-type", "")
            if not ctype.startswith("text/event-stream"):
                raise TroveError(
                    f"{self.path} answered {ctype or 'no content type'}, not an event stream",
                    response.status_code,
                )
            self.connected = True
            self._failures = 0
            return
        if response.status_code in _FATAL_STREAM_STATUS or not self.reconnect:
            raise error_from_response(response)

    def line(self, text: str) -> StreamedEvent | None:
        """Feed one line; returns the event it completes, if any (``connected`` is swallowed)."""
        sse = self._decoder.feed(text)
        if sse is None:
            return None
        if sse.retry is not None:
            self._retry_hint = sse.retry / 1000
        try:
            payload = json.loads(sse.data)
        except ValueError as exc:
            raise TroveError(f"the event stream sent data that is not JSON: {exc}") from exc
        if isinstance(payload, Mapping) and payload.get("type") == "connected":
            # Where this connection starts. Adopting it means a reconnect before the first
            # event resumes from there instead of from "now", which would lose the events
            # created while the connection was down.
            start = sse.id if sse.id is not None else payload.get("cursor")
            if self.cursor is None and isinstance(start, str) and start:
                self.cursor = start
            return None
        try:
            event = parse_event(payload)
        except EventParseError as exc:
            raise TroveError(f"the event stream sent a malformed event: {exc}") from exc
        cursor = sse.id if sse.id is not None else self.cursor
        self.cursor = cursor
        return StreamedEvent(cursor, event, sse.data)

    def disconnected(self, error: BaseException | None) -> float:
        """Seconds to wait before reconnecting; raises when reconnecting is off."""
        self.connected = False
        if not self.reconnect:
            if isinstance(error, TroveError):
                raise error
            raise TroveError(f"the event stream closed: {error or 'server ended it'}")
        self.reconnects += 1
        self._failures += 1
        if self._retry_hint is not None and self._failures == 1:
            return self._retry_hint
        return random.uniform(0, min(self.max_backoff, 0.25 * 2 ** min(self._failures, 8)))
