"""The two I/O drivers: they send what operations ask for, with retries, and nothing else.

``SyncIO`` and ``AsyncIO`` keep the same method names and the same shape; retry decisions,
error mapping and request building live in ``HTTPBase``. What differs is only ``await``, how a
sleep, a chunked upload body and a parallel group are done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx

from trove_sdk._base import Call, HTTPBase, Op, Parallel, Sleep, Upload, translate_transport_error
from trove_sdk._exceptions import TroveError

__all__ = ["AsyncIO", "SyncIO"]

T = TypeVar("T")


def _sync_chunks(upload: Upload) -> Iterator[bytes]:
    while chunk := upload.read_chunk():
        yield chunk


async def _async_chunks(upload: Upload) -> AsyncIterator[bytes]:
    # File reads happen in a worker thread so a slow disk never stalls the event loop.
    while chunk := await asyncio.to_thread(upload.read_chunk):
        yield chunk


class SyncIO(HTTPBase):
    """Drives operations with ``httpx.Client``."""

    def _init_http(self, http_client: httpx.Client | None) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)

    def _build(self, call: Call) -> httpx.Request:
        kwargs = self._request_kwargs(call)
        if call.upload is not None:
            # Always in 1 MiB chunks: httpcore's sync writer re-slices the remaining buffer
            # after every send(), which is quadratic for one large bytes body (a 100 MiB
            # upload ran at a third of the speed).
            kwargs["content"] = _sync_chunks(call.upload)
        return self._http.build_request(call.method, self._base_url + call.url, **kwargs)

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
            raise translate_transport_error(exc, str(response.request.url)) from exc
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

    def _init_http(self, http_client: httpx.AsyncClient | None) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)

    def _build(self, call: Call) -> httpx.Request:
        kwargs = self._request_kwargs(call)
        if call.upload is not None:
            data = call.upload.in_memory
            kwargs["content"] = data if data is not None else _async_chunks(call.upload)
        return self._http.build_request(call.method, self._base_url + call.url, **kwargs)

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
            raise translate_transport_error(exc, str(response.request.url)) from exc
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
