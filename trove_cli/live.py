"""Live events for ``tail`` and ``webhooks listen``: recent ones first, then as they happen.

``EventSource`` subscribes to the resumable stream (X1) through ``trove_sdk``, which reconnects
and resumes by cursor by itself. Three things happen around it here:

* **replay** (``--since``): the stream is opened *first*; once the server has answered it, the
  feed is read from ``since`` up to now. Every event is then either in that replay (created
  before the read) or on the stream (created after it opened), and the overlap is dropped by
  id — no gap, no duplicate;
* **polling fallback**: a server without the stream (404/405) is polled on the feed every
  ``interval`` seconds, paging until it has every new event — a burst of more than 200 never
  loses the oldest;
* **backpressure**: events reach the consumer through a bounded queue, so a slow consumer
  (a receiver that is down) pauses the stream instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx

from trove_cli.humanize import parse_timestamp

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import AsyncTroveAdminClient, Event

__all__ = ["EventSource", "LiveEvent", "SourceFailed"]

PAGE_SIZE = 200
_ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class LiveEvent:
    """An event and the exact JSON text to forward or print.

    ``cursor`` is the stream's resume point after this event; None for events read from the
    feed (a replay or the polling fallback), which have no stream position.
    """

    event: Event[Any]
    payload: str
    cursor: str | None
    replayed: bool = False


@dataclass(frozen=True)
class SourceFailed:
    """Put on the queue when the source stops for good; the consumer re-raises ``error``."""

    error: BaseException


def _encode(event: Event[Any]) -> str:
    import json

    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False)


def _stream_unsupported(exc: BaseException) -> bool:
    from trove_sdk import TroveError

    if not isinstance(exc, TroveError) or exc.status_code is None:
        return False
    # 404/405: no such route; a 2xx that is not text/event-stream: some other route.
    return exc.status_code in (404, 405) or 200 <= exc.status_code < 300


class EventSource:
    """Events of a workspace, filtered by ``types`` and ``namespace``, onto a queue.

    Parameters:
        app: gives the profile's client.
        since: replay events created after this instant first (None: only new ones).
        cursor: resume the stream after this cursor (``listen`` keeps it between runs).
        types: event types to keep (None: all).
        namespace: the one namespace to keep (None: all).
        interval: seconds between polls when the server has no stream.
        buffer: events held for a slow consumer before the stream is paused.
        on_connect: called with the connection count each time the stream (re)opens.
    """

    def __init__(
        self,
        app: App,
        *,
        since: datetime | None = None,
        cursor: str | None = None,
        types: Sequence[str] | None = None,
        namespace: str | None = None,
        interval: float = 2.0,
        buffer: int = 1000,
        on_connect: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.since = since
        self.cursor = cursor
        self.types = list(types) if types else None
        self.namespace = namespace
        self.interval = interval
        self.queue: asyncio.Queue[LiveEvent | SourceFailed] = asyncio.Queue(maxsize=buffer)
        self.mode: str = "connecting"  # then "stream" or "polling"
        self.connects = 0
        self._connected = asyncio.Event()
        self._on_connect = on_connect

    async def _on_response(self, response: httpx.Response) -> None:
        if (
            response.request.url.path.endswith("/stream")
            and response.is_success
            and response.headers.get("content-type", "").startswith("text/event-stream")
        ):
            self.connects += 1
            self._connected.set()
            if self._on_connect is not None:
                self._on_connect(self.connects)

    async def run(self) -> None:
        """Feed ``self.queue`` until cancelled; a fatal error is queued as ``SourceFailed``."""
        http = httpx.AsyncClient(event_hooks={"response": [self._on_response]})
        try:
            async with self.app.async_admin(http_client=http) as admin:
                await self._run(admin)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.queue.put(SourceFailed(exc))
        finally:
            await http.aclose()

    async def _run(self, admin: AsyncTroveAdminClient) -> None:
        # Fail fast (exit 2 or 4) on a bad key or an unreachable server, before waiting on a
        # stream that would retry forever.
        await admin.me()
        live: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.queue.maxsize)
        consumer = asyncio.create_task(self._consume(admin, live))
        try:
            connected = asyncio.create_task(self._connected.wait())
            await asyncio.wait({connected, consumer}, return_when=asyncio.FIRST_COMPLETED)
            connected.cancel()
            if consumer.done() and not self._connected.is_set():
                error = consumer.exception()
                if error is not None and _stream_unsupported(error):
                    self.mode = "polling"
                    self.app.output.note(
                        f"(this server has no event stream: polling every {self.interval:g}s)"
                    )
                    await self._poll(admin, self.since or datetime.now(timezone.utc))
                    return
                consumer.result()
            self.mode = "stream"
            replayed: set[str] = set()
            if self.since is not None:
                for event in await self._feed_since(admin, self.since):
                    replayed.add(event.id)
                    await self.queue.put(LiveEvent(event, _encode(event), None, replayed=True))
            while True:
                item = await live.get()
                if isinstance(item, BaseException):
                    raise item
                if item.event.id in replayed:
                    replayed.discard(item.event.id)
                    continue
                await self.queue.put(LiveEvent(item.event, item.payload, item.cursor))
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await consumer

    async def _consume(self, admin: AsyncTroveAdminClient, live: asyncio.Queue[Any]) -> None:
        try:
            async for item in admin.stream_events(
                cursor=self.cursor, types=self.types, namespace=self.namespace
            ):
                await live.put(item)
        except Exception as exc:
            if not self._connected.is_set():
                raise  # before the first answer: _run decides (fallback or fail)
            await live.put(exc)

    async def _feed_since(self, admin: AsyncTroveAdminClient, since: datetime) -> list[Event[Any]]:
        """Every matching event created after ``since``, oldest first (all pages)."""
        events: list[Event[Any]] = []
        cursor: str | None = None
        while True:
            page = await admin.list_events(
                since=since,
                types=self.types,
                namespace=self.namespace,
                limit=PAGE_SIZE,
                cursor=cursor,
            )
            events.extend(page.events)
            if page.next_cursor is None or not page.events:
                break
            cursor = page.next_cursor
        events.reverse()
        return events

    async def _poll(self, admin: AsyncTroveAdminClient, since: datetime) -> None:
        """The feed every ``interval`` s. ``since`` is exclusive and timestamps have ms
        precision, so each poll asks from 1 ms before the newest event seen and skips the
        ones already printed at that exact instant."""
        bookmark = since
        at_bookmark: set[str] = set()
        while True:
            query_from = bookmark - _ONE_MS if at_bookmark else bookmark
            for event in await self._feed_since(admin, query_from):
                if event.id in at_bookmark:
                    continue
                moment = parse_timestamp(event.created_at)
                if moment is not None and moment >= bookmark:
                    if moment > bookmark:
                        bookmark, at_bookmark = moment, set()
                    at_bookmark.add(event.id)
                await self.queue.put(LiveEvent(event, _encode(event), None))
            await asyncio.sleep(self.interval)
