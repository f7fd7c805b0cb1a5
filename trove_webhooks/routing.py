"""``WebhookRouter``: which handlers run for which event type.

Types are checked when a handler is registered, against ``trove_sdk.EVENT_TYPES`` only: a typo
fails at import time with a suggestion instead of silently never firing. Whether a handler is
sync or async, and whether it takes a delivery context, is decided here, once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, Union, overload

from starlette.concurrency import run_in_threadpool

from trove_sdk import EVENT_TYPES, Event, UnknownEvent, suggest_event_type
from trove_webhooks.errors import ConfigurationError

__all__ = ["Handler", "WebhookRouter"]

F = TypeVar("F", bound=Callable[..., Any])
EventSpec = str | type[Event[Any]]


@dataclass(frozen=True)
class Handler:
    """A registered function with its calling convention decided once."""

    func: Callable[..., Any]
    name: str
    takes_context: bool
    is_async: bool

    def call(self, *args: Any) -> Any:
        """Run from sync code (WSGI, the inbox worker's threads)."""
        args = args if self.takes_context else args[:-1]
        if not self.is_async:
            return self.func(*args)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.func(*args))
        # Called from sync code that itself runs on a loop: give the coroutine its own thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.func(*args)).result()

    def acall(self, *args: Any) -> Awaitable[Any]:
        """Run from the event loop (await the result): sync functions go to the thread pool.

        Returns the handler's own awaitable rather than wrapping it in another coroutine:
        one coroutine fewer per handler and delivery.
        """
        args = args if self.takes_context else args[:-1]
        if self.is_async:
            result: Awaitable[Any] = self.func(*args)
            return result
        return run_in_threadpool(self.func, *args)


def _is_async(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - an instance with async __call__
    )


def _positional_count(func: Callable[..., Any]) -> tuple[int, bool]:
    """How many positional parameters ``func`` accepts, and whether it has ``*args``."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume (event)
        return 1, False
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    return len(positional), varargs


def _describe(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{qualname}"


def make_handler(func: Callable[..., Any], *, required: int, role: str) -> Handler:
    """Check ``func`` can take ``required`` arguments (+1 optional context) and wrap it."""
    if not callable(func):
        raise ConfigurationError(f"{role} must be callable, not {type(func).__name__}")
    count, varargs = _positional_count(func)
    if count < required and not varargs:
        raise ConfigurationError(
            f"{role} {_describe(func)} must accept {required} positional argument(s)"
        )
    takes_context = varargs or count > required
    return Handler(func, _describe(func), takes_context, _is_async(func))


def _event_classes(annotation: Any) -> list[type[Event[Any]]]:
    """Event classes named by an annotation: ``FileWritten`` or ``FileWritten | FileDeleted``."""
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, Event) else []
    if typing.get_origin(annotation) in (Union, types.UnionType):
        found: list[type[Event[Any]]] = []
        for arg in typing.get_args(annotation):
            found.extend(_event_classes(arg))
        return found
    if isinstance(annotation, str):  # unresolvable forward reference: match by class name
        names = {cls.__name__: cls for cls in EVENT_TYPES.values()}
        return [names[p.strip()] for p in annotation.split("|") if p.strip() in names]
    return []


def _annotated_classes(func: Callable[..., Any]) -> list[type[Event[Any]]]:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return []
    if not params:
        return []
    try:
        hints = typing.get_type_hints(func)
        annotation = hints.get(params[0].name, params[0].annotation)
    except Exception:  # any failure to resolve means "look at the raw text"
        annotation = params[0].annotation
    if annotation is inspect.Parameter.empty:
        return []
    return _event_classes(annotation)


class WebhookRouter:
    """Handlers by event type, plus catch-all and error handlers.

    Parameters:
        allow_unknown_types: accept type names missing from this SDK version's catalogue
            (for a server newer than the SDK); by default they are refused as typos.
    """

    # Bumped by every registration on any router, so a cached lookup can never miss a
    # handler added later to this router or to one it includes.
    _generation = 0

    def __init__(self, *, allow_unknown_types: bool = False) -> None:
        self.allow_unknown_types = allow_unknown_types
        self._typed: dict[str, list[Handler]] = {}
        self._any: list[Handler] = []
        self._errors: list[Handler] = []
        self._included: list[WebhookRouter] = []
        self._cache: dict[str, tuple[tuple[Handler, ...], bool]] = {}
        self._cached_generation = -1

    @classmethod
    def _changed(cls) -> None:
        WebhookRouter._generation += 1

    # --- registration ---------------------------------------------------------------------

    @overload
    def on(self, event_type: F, /) -> F: ...
    @overload
    def on(
        self, event_type: EventSpec | Iterable[EventSpec] | None = None, /
    ) -> Callable[[F], F]: ...
    @overload
    def on(self, event_type: EventSpec | Iterable[EventSpec], handler: F, /) -> F: ...

    def on(self, event_type: Any = None, handler: Any = None, /) -> Any:
        """Register a handler for one or more event types.

        ``@router.on(FileWritten)``, ``@router.on("file.written")``, ``@router.on(["a", "b"])``,
        or bare ``@router.on`` to take the types from the first parameter's annotation.
        """
        if handler is not None:
            self._add(event_type, handler)
            return handler
        if callable(event_type) and not isinstance(event_type, type):
            self._add(None, event_type)
            return event_type

        def decorator(func: F) -> F:
            self._add(event_type, func)
            return func

        return decorator

    def on_any(self, handler: F, /) -> F:
        """Register a handler for every event, unknown types included."""
        self._any.append(make_handler(handler, required=1, role="on_any handler"))
        self._changed()
        return handler

    def on_error(self, handler: F, /) -> F:
        """Register ``handler(event, error[, context])``, called when any handler fails.

        ``error`` is a ``HandlerError`` listing every failure for that event. An error handler's
        own exception is logged and never replaces the original failure.
        """
        self._errors.append(make_handler(handler, required=2, role="on_error handler"))
        self._changed()
        return handler

    def include(self, other: WebhookRouter) -> None:
        """Serve ``other``'s handlers too (including ones registered on it later)."""
        if other is self or self in other._walk():
            raise ConfigurationError("including this router would make a cycle")
        self._included.append(other)
        self._changed()

    def _add(self, spec: Any, func: Callable[..., Any]) -> None:
        annotated = _annotated_classes(func)
        if spec is None:
            if not annotated:
                raise ConfigurationError(
                    f"cannot tell which event type {_describe(func)} handles: pass it, as in "
                    "@router.on(FileWritten) or @router.on('file.written'), or annotate the "
                    "first parameter with an event class; for every event use @router.on_any"
                )
            names = [self._type_name(cls) for cls in annotated]
        else:
            specs = [spec] if isinstance(spec, (str, type)) else list(spec)
            if not specs:
                raise ConfigurationError("router.on() needs at least one event type")
            names = [self._type_name(s) for s in specs]
            self._check_annotation(func, names, annotated)
        handler = make_handler(func, required=1, role="handler")
        for name in dict.fromkeys(names):
            self._typed.setdefault(name, []).append(handler)
        self._changed()

    def _type_name(self, spec: Any) -> str:
        if isinstance(spec, type):
            if not issubclass(spec, Event) or spec is Event or spec is UnknownEvent:
                raise ConfigurationError(
                    f"{spec.__name__} is not a specific event class; "
                    "for every event use @router.on_any"
                )
            assert spec.event_type is not None
            return spec.event_type
        if not isinstance(spec, str):
            raise ConfigurationError(
                f"an event type is a name or an event class, not {type(spec).__name__}"
            )
        if spec in ("*", "any"):
            raise ConfigurationError(f"{spec!r} is not an event type: use @router.on_any")
        if spec == "error":
            raise ConfigurationError("'error' is not an event type: use @router.on_error")
        if spec in EVENT_TYPES or self.allow_unknown_types:
            return spec
        suggestion = suggest_event_type(spec)
        if suggestion:
            raise ConfigurationError(f"unknown event type {spec!r} — did you mean {suggestion!r}?")
        known = ", ".join(sorted(EVENT_TYPES))
        raise ConfigurationError(f"unknown event type {spec!r}; known types: {known}")

    @staticmethod
    def _check_annotation(
        func: Callable[..., Any], names: list[str], annotated: list[type[Event[Any]]]
    ) -> None:
        typed = {cls.event_type for cls in annotated}
        wrong = [n for n in names if typed and n in EVENT_TYPES and n not in typed]
        if wrong:
            shown = " | ".join(cls.__name__ for cls in annotated)
            raise ConfigurationError(
                f"{_describe(func)} is registered for {wrong[0]!r} but its event parameter "
                f"is annotated {shown}; it would receive a {EVENT_TYPES[wrong[0]].__name__}"
            )

    # --- lookup -----------------------------------------------------------------------------

    def _walk(self) -> Iterator[WebhookRouter]:
        yield self
        for child in self._included:
            yield from child._walk()

    def _lookup(self, event_type: str) -> tuple[tuple[Handler, ...], bool]:
        """``(handlers, wants_context)`` for a type, computed once per registration change."""
        if self._cached_generation != WebhookRouter._generation:
            self._cache = {}
            self._cached_generation = WebhookRouter._generation
        found = self._cache.get(event_type)
        if found is None:
            routers = list(self._walk())
            typed = [h for r in routers for h in r._typed.get(event_type, ())]
            handlers = tuple(typed + [h for r in routers for h in r._any])
            errors = [h for r in routers for h in r._errors]
            wants = any(h.takes_context for h in (*handlers, *errors))
            found = (handlers, wants)
            if len(self._cache) < 1024:  # unknown types are attacker-chosen only if signed
                self._cache[event_type] = found
        return found

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        """Typed handlers for ``event_type`` then catch-all ones, in registration order."""
        return self._lookup(event_type)[0]

    def wants_context(self, event_type: str) -> bool:
        """Whether any handler (or error handler) for the type takes a delivery context."""
        return self._lookup(event_type)[1]

    @property
    def error_handlers(self) -> list[Handler]:
        return [h for r in self._walk() for h in r._errors]

    @property
    def event_types(self) -> list[str]:
        """Every type some handler is registered for (catch-all handlers not counted)."""
        return sorted({name for r in self._walk() for name in r._typed})

    def __repr__(self) -> str:
        count = sum(len(v) for r in self._walk() for v in r._typed.values())
        return f"<WebhookRouter {count} typed handler(s) for {', '.join(self.event_types)}>"
