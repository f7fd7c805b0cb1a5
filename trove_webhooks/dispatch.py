"""Run every handler that matches an event; gather every failure; tell the error handlers.

Usable without HTTP: ``dispatch(router, event, context)`` from sync code, ``adispatch`` from
async code. Handlers run one after another in registration order (typed, then catch-all), so
their side effects happen in a predictable order. A failing handler does not stop the others.

``adispatch(..., timeout=)`` (the inbox workers) bounds the run: a handler still running at the
deadline is abandoned and counted as failed with a ``TimeoutError``, and the error handlers are
told. An async handler is cancelled; a sync one cannot be stopped, so its thread runs on,
unobserved, until the function returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from trove_webhooks.context import DeliveryContext
from trove_webhooks.errors import HandlerError
from trove_webhooks.routing import Handler, WebhookRouter

__all__ = ["DispatchResult", "adispatch", "dispatch"]

logger = logging.getLogger("trove_webhooks.dispatch")


class DispatchResult(NamedTuple):
    """What a dispatch did (a tuple: one per delivery, on the hot path)."""

    handled: int  # how many handlers matched (0 → the event is "ignored")
    error: HandlerError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _failed(event: Any, failures: Sequence[tuple[str, BaseException]]) -> HandlerError | None:
    if not failures:
        return None
    for name, exc in failures:
        logger.error("handler %s failed for %s %s", name, event.type, event.id, exc_info=exc)
    return HandlerError(event, failures)


def _error_handler_failed(handler: Handler, event: Any, exc: BaseException) -> None:
    logger.error(
        "error handler %s itself failed for %s %s",
        handler.name,
        event.type,
        event.id,
        exc_info=exc,
    )


def dispatch(router: WebhookRouter, event: Any, context: DeliveryContext | None) -> DispatchResult:
    """Run the handlers for ``event`` from sync code."""
    handlers = router.handlers_for(event.type)
    failures: list[tuple[str, BaseException]] = []
    for handler in handlers:
        try:
            handler.call(event, context)
        except Exception as exc:  # any handler failure is collected
            failures.append((handler.name, exc))
    error = _failed(event, failures)
    if error is not None:
        for on_error in router.error_handlers:
            try:
                on_error.call(event, error, context)
            except Exception as exc:  # never masks the original failure
                _error_handler_failed(on_error, event, exc)
    return DispatchResult(len(handlers), error)


async def adispatch(
    router: WebhookRouter,
    event: Any,
    context: DeliveryContext,
    *,
    timeout: float | None = None,
) -> DispatchResult:
    """Run the handlers for ``event`` on the event loop (sync ones in the thread pool).

    With ``timeout``, the handlers share that many seconds: the one still running at the
    deadline is abandoned and recorded as failed with a ``TimeoutError``, and the ones after it
    are not started (a retry runs them all again). The error handlers get as long again.
    """
    if timeout is not None:
        return await _adispatch_within(router, event, context, timeout)
    handlers = router.handlers_for(event.type)
    failures: list[tuple[str, BaseException]] = []
    for handler in handlers:
        try:
            await handler.acall(event, context)
        except Exception as exc:  # any handler failure is collected
            failures.append((handler.name, exc))
    if not failures:  # the common case: nothing to log, no error handler to run
        return DispatchResult(len(handlers))
    error = _failed(event, failures)
    if error is not None:
        for on_error in router.error_handlers:
            try:
                await on_error.acall(event, error, context)
            except Exception as exc:  # never masks the original failure
                _error_handler_failed(on_error, event, exc)
    return DispatchResult(len(handlers), error)


async def _adispatch_within(
    router: WebhookRouter, event: Any, context: DeliveryContext, timeout: float
) -> DispatchResult:
    handlers = router.handlers_for(event.type)
    failed = await _run_within(handlers, (event, context), timeout)
    error = _failed(event, [(handler.name, exc) for handler, exc in failed])
    if error is not None:
        for on_error, exc in await _run_within(
            router.error_handlers, (event, error, context), timeout
        ):
            _error_handler_failed(on_error, event, exc)
    return DispatchResult(len(handlers), error)


async def _run_within(
    handlers: Sequence[Handler], args: tuple[Any, ...], timeout: float
) -> list[tuple[Handler, BaseException]]:
    """Run ``handlers`` in turn, all within ``timeout`` seconds; return their failures."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    failures: list[tuple[Handler, BaseException]] = []
    for handler in handlers:
        remaining = deadline - loop.time()
        try:
            if remaining <= 0:
                raise asyncio.TimeoutError
            await asyncio.wait_for(handler.acall(*args), remaining)
        except asyncio.TimeoutError as exc:
            if loop.time() < deadline:  # the handler's own timeout, not the deadline
                failures.append((handler, exc))
                continue
            late = TimeoutError(f"{handler.name} did not finish within {timeout:g}s")
            failures.append((handler, late))
            break
        except Exception as exc:  # any handler failure is collected
            failures.append((handler, exc))
    return failures
