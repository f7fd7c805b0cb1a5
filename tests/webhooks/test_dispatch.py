"""Dispatch without HTTP: every handler runs, failures are gathered, error handlers are told."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone
from typing import Any

import pytest

from trove_sdk import FileWritten, parse_event, sample_event
from trove_webhooks import DeliveryContext, HandlerError, WebhookRouter, adispatch, dispatch


def event() -> Any:
    return parse_event(sample_event("file.written"))


def context(e: Any) -> DeliveryContext:
    return DeliveryContext(e.id, 1, datetime.now(timezone.utc), 0, 0)


def failing_router(calls: list[str]) -> WebhookRouter:
    router = WebhookRouter()

    @router.on(FileWritten)
    def first(event: FileWritten) -> None:
        calls.append("first")
        raise ValueError("first broke")

    @router.on(FileWritten)
    async def second(event: FileWritten) -> None:
        calls.append("second")

    @router.on_any
    def third(event: Any) -> None:
        calls.append("third")
        raise KeyError("third broke")

    return router


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failing_handler_does_not_stop_the_others(mode: str) -> None:
    calls: list[str] = []
    router = failing_router(calls)
    e = event()
    result = (
        dispatch(router, e, context(e))
        if mode == "sync"
        else await adispatch(router, e, context(e))
    )
    assert calls == ["first", "second", "third"]
    assert result.handled == 3
    assert not result.ok


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_error_gathers_every_failure_with_the_event(mode: str) -> None:
    router = failing_router([])
    e = event()
    result = (
        dispatch(router, e, context(e))
        if mode == "sync"
        else await adispatch(router, e, context(e))
    )
    assert isinstance(result.error, HandlerError)
    assert result.error.event is e
    assert [type(exc) for _, exc in result.error.errors] == [ValueError, KeyError]
    assert result.error.handler_names[0].endswith("first")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_error_handlers_receive_the_event_the_error_and_optionally_the_context(
    mode: str,
) -> None:
    router = failing_router([])
    seen: list[tuple[Any, ...]] = []
    router.on_error(lambda ev, err: seen.append((ev, err)))

    @router.on_error
    async def with_context(ev: Any, err: HandlerError, ctx: DeliveryContext) -> None:
        seen.append((ev, err, ctx))

    e = event()
    ctx = context(e)
    result = dispatch(router, e, ctx) if mode == "sync" else await adispatch(router, e, ctx)
    assert seen[0] == (e, result.error)
    assert seen[1] == (e, result.error, ctx)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failing_error_handler_is_logged_and_never_masks_the_original(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    router = failing_router([])

    @router.on_error
    def broken(ev: Any, err: HandlerError) -> None:
        raise RuntimeError("error handler broke")

    e = event()
    with caplog.at_level(logging.ERROR, logger="trove_webhooks"):
        result = (
            dispatch(router, e, context(e))
            if mode == "sync"
            else await adispatch(router, e, context(e))
        )
    assert result.error is not None
    assert [type(exc) for _, exc in result.error.errors] == [ValueError, KeyError]
    assert "error handler" in caplog.text and "broken" in caplog.text


async def test_sync_handlers_run_off_the_event_loop_thread() -> None:
    router = WebhookRouter()
    threads: list[int] = []
    router.on("file.written", lambda e: threads.append(threading.get_ident()))
    e = event()
    await adispatch(router, e, context(e))
    assert threads[0] != threading.get_ident()


def test_async_handlers_run_from_sync_code_without_a_loop_of_their_own() -> None:
    router = WebhookRouter()
    seen: list[str] = []

    @router.on(FileWritten)
    async def index(event: FileWritten) -> None:
        await asyncio.sleep(0)
        seen.append(event.data.path)

    e = event()
    assert dispatch(router, e, context(e)).ok
    assert seen == ["workspace/notes/plan.md"]


def test_an_event_with_no_handler_dispatches_to_nothing() -> None:
    e = event()
    assert dispatch(WebhookRouter(), e, context(e)).handled == 0
