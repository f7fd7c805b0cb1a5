"""The two I/O drivers: they send what operations ask for, with retries, and nothing else.

``SyncIO`` and ``AsyncIO`` keep the same method names and the same shape; retry decisions,
error mapping and request building live in ``HTTPBase``. What differs is only ``await``, how a
sleep, a chunked upload body and a parallel group are done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from trove_sdk._base import Call, HTTPBase, Op, Parallel, Sleep, Upload, translate_transport_error
from trove_sdk._exceptions import TroveError

__all__ = ["AsyncIO", "SyncIO"]

T = TypeVar("T")
S = TypeVar("S", bound="SyncIO")
A = TypeVar("A", bound="AsyncIO")


def _sync_chunks(upload: Upload) -> Iterator[bytes]:
    while chunk := upload.read_chunk():
        yield chunk


async def _async_chunks(upload: Upload) -> AsyncIterator[bytes]:
    # File reads happen in a worker thread so a slow disk never stalls the event loop;
    # slices of an in-memory body need no thread.
    read = upload.read_chunk
    while chunk := (read() if upload.in_memory is not None else await asyncio.to_thread(read)):
        yield chunk


class SyncIO(HTTPBase):
    """Drives operations with ``httpx.Client``."""

    _http: httpx.Client

    def _init_http(self, http_client: httpx.Client | None) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)

    def _body_stream(self, upload: Upload) -> Iterator[bytes]:
        return _sync_chunks(upload)

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            request = self._build(call)
            outcome: httpx.Response | httpx.TransportError
            try:
                response = self._http.send(request, stream=True)
                try:
                    if response.is_success:
                        return self._receive(call, response)
                    response.read()
                finally:
                    response.close()
                outcome = response
            except httpx.TransportError as exc:
                outcome = exc
            time.sleep(self._retry_delay(call, attempt, request, outcome))
            attempt += 1

    def _receive(self, call: Call, response: httpx.Response) -> httpx.Response:
        if call.sink is None:
            response.read()
            return response
        call.sink.begin(response.headers)
        try:
            for chunk in response.iter_bytes():
                call.sink.write(chunk)
        except httpx.TransportError as exc:
            call.sink.abort()
            raise translate_transport_error(exc, response.request.url) from exc
        except BaseException:
            call.sink.abort()
            raise
        call.sink.finish()
        return response

    def _run(self, op: Op[T]) -> T:
        reply: Any = None
        error: TroveError | None = None
        while True:
            try:
                step = op.throw(error) if error is not None else op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply, error = None, None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
            elif isinstance(step, Parallel):
                reply = [self._run_capturing(sub) for sub in step.ops]
            else:
                try:
                    reply = self._send(step)
                except TroveError as exc:
                    error = exc

    def _run_capturing(self, op: Op[Any]) -> Any:
        try:
            return self._run(op)
        except TroveError as exc:
            return exc

    def close(self) -> None:
        """Close the connection pool (not a pool passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()


class AsyncIO(HTTPBase):
    """Drives operations with ``httpx.AsyncClient``."""

    _http: httpx.AsyncClient

    def _init_http(self, http_client: httpx.AsyncClient | None) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)

    def _body_stream(self, upload: Upload) -> AsyncIterator[bytes]:
        return _async_chunks(upload)

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            request = self._build(call)
            outcome: httpx.Response | httpx.TransportError
            try:
                response = await self._http.send(request, stream=True)
                try:
                    if response.is_success:
                        return await self._receive(call, response)
                    await response.aread()
                finally:
                    await response.aclose()
                outcome = response
            except httpx.TransportError as exc:
                outcome = exc
            await asyncio.sleep(self._retry_delay(call, attempt, request, outcome))
            attempt += 1

    async def _receive(self, call: Call, response: httpx.Response) -> httpx.Response:
        if call.sink is None:
            await response.aread()
            return response
        call.sink.begin(response.headers)
        try:
            async for chunk in response.aiter_bytes():
                call.sink.write(chunk)
        except httpx.TransportError as exc:
            call.sink.abort()
            raise translate_transport_error(exc, response.request.url) from exc
        except BaseException:
            call.sink.abort()
            raise
        call.sink.finish()
        return response

    async def _run(self, op: Op[T]) -> T:
        reply: Any = None
        error: TroveError | None = None
        while True:
            try:
                step = op.throw(error) if error is not None else op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply, error = None, None
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Parallel):
                reply = list(await asyncio.gather(*(self._run_capturing(s) for s in step.ops)))
            else:
                try:
                    reply = await self._send(step)
                except TroveError as exc:
                    error = exc

    async def _run_capturing(self, op: Op[Any]) -> Any:
        try:
            return await self._run(op)
        except TroveError as exc:
            return exc

    async def aclose(self) -> None:
        """Close the connection pool (not a pool passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()
