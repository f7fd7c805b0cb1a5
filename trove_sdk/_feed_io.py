"""Workspace-wide reads (events feed and stream, namespaces) for the runtime and admin clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any

import httpx

from trove_sdk._events import Event
from trove_sdk._feed import EventPage, EventsOps, StreamedEvent
from trove_sdk._io import AsyncIO, SyncIO
from trove_sdk._models import NamespaceInfo
from trove_sdk._sse import SSELineSplitter

__all__ = ["AsyncFeed", "SyncFeed"]

Since = str | datetime | None
Types = str | Iterable[str] | None


class SyncFeed(EventsOps, SyncIO):
    def list_namespaces(self) -> list[NamespaceInfo]:
        """Namespaces with their file count, size and last change (a namespace-locked key sees
        only its own)."""
        return self._run(self._list_namespaces_op())

    def list_events(
        self,
        *,
        since: Since = None,
        types: Types = None,
        namespace: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> EventPage:
        """One page of the workspace's events, newest first. ``since`` (a timestamp) is
        exclusive; ``cursor`` continues from a previous page's ``next_cursor``."""
        return self._run(
            self._events_page_op(
                since=since, types=types, namespace=namespace, limit=limit, cursor=cursor
            )
        )

    def iter_events(
        self,
        *,
        since: Since = None,
        types: Types = None,
        namespace: str | None = None,
        page_size: int = 200,
    ) -> Iterator[Event[Any]]:
        """Every matching event, newest first, fetching pages as it goes."""
        cursor: str | None = None
        while True:
            page = self.list_events(
                since=since, types=types, namespace=namespace, limit=page_size, cursor=cursor
            )
            yield from page.events
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def stream_events(
        self,
        *,
        cursor: str | None = None,
        types: Types = None,
        namespace: str | None = None,
        reconnect: bool = True,
    ) -> Iterator[StreamedEvent]:
        """Events as they happen (SSE), oldest first. Reconnects by itself and resumes after
        the last event it yielded — no gap, no duplicate; pass ``cursor`` (a previous
        ``StreamedEvent.cursor``) to resume an earlier subscription."""
        stream = self._run(
            self._stream_op(cursor=cursor, types=types, namespace=namespace, reconnect=reconnect)
        )
        while True:
            request = self._build(stream.request())
            error: BaseException | None = None
            try:
                response = self._http.send(request, stream=True)
                try:
                    if not response.is_success:
                        response.read()
                    stream.opened(response)
                    if response.is_success:
                        lines = SSELineSplitter()
                        for chunk in response.iter_bytes():
                            for line in lines.feed(chunk):
                                item = stream.line(line)
                                if item is not None:
                                    yield item
                finally:
                    response.close()
            except httpx.TransportError as exc:
                error = exc
            time.sleep(stream.disconnected(error))


class AsyncFeed(EventsOps, AsyncIO):
    async def list_namespaces(self) -> list[NamespaceInfo]:
        return await self._run(self._list_namespaces_op())

    async def list_events(
        self,
        *,
        since: Since = None,
        types: Types = None,
        namespace: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> EventPage:
        return await self._run(
            self._events_page_op(
                since=since, types=types, namespace=namespace, limit=limit, cursor=cursor
            )
        )

    async def iter_events(
        self,
        *,
        since: Since = None,
        types: Types = None,
        namespace: str | None = None,
        page_size: int = 200,
    ) -> AsyncIterator[Event[Any]]:
        cursor: str | None = None
        while True:
            page = await self.list_events(
                since=since, types=types, namespace=namespace, limit=page_size, cursor=cursor
            )
            for event in page.events:
                yield event
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def stream_events(
        self,
        *,
        cursor: str | None = None,
        types: Types = None,
        namespace: str | None = None,
        reconnect: bool = True,
    ) -> AsyncIterator[StreamedEvent]:
        stream = await self._run(
            self._stream_op(cursor=cursor, types=types, namespace=namespace, reconnect=reconnect)
        )
        while True:
            request = self._build(stream.request())
            error: BaseException | None = None
            try:
                response = await self._http.send(request, stream=True)
                try:
                    if not response.is_success:
                        await response.aread()
                    stream.opened(response)
                    if response.is_success:
                        lines = SSELineSplitter()
                        async for chunk in response.aiter_bytes():
                            for line in lines.feed(chunk):
                                item = stream.line(line)
                                if item is not None:
                                    yield item
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                error = exc
            await asyncio.sleep(stream.disconnected(error))
