"""Options several commands share, declared once so their flags and help never drift."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["EventTypesParam", "json_option", "namespace_option", "types_option", "yes_option"]

F = TypeVar("F", bound=Callable[..., Any])


def namespace_option(
    help: str = "Namespace (default: TROVE_NAMESPACE, then the profile's).",
) -> Callable[[F], F]:
    return click.option("-n", "--namespace", "namespace", default=None, metavar="NS", help=help)


def json_option(help: str = "Print JSON instead of text.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def yes_option(help: str = "Do not ask for confirmation.") -> Callable[[F], F]:
    return click.option("-y", "--yes", "yes", is_flag=True, help=help)


class EventTypesParam(click.ParamType):
    """``-t file.written,exec.completed`` → a list of types, checked against the catalogue.

    A near miss of a known type is an error with the suggestion; a name nothing like any
    known type is let through with a warning (a newer server may know it).
    """

    name = "types"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        from trove_sdk import EVENT_TYPES, suggest_event_type

        names = [t.strip() for t in str(value).split(",") if t.strip()]
        if not names:
            self.fail("give at least one event type", param, ctx)
        for name in names:
            if name in EVENT_TYPES or name == "*":
                continue
            suggestion = suggest_event_type(name)
            if suggestion is not None:
                self.fail(f"unknown event type {name!r}; did you mean {suggestion!r}?", param, ctx)
            click.secho(f"warning: {name!r} is not an event type this CLI knows", err=True)
        return names


def types_option(help: str = "Only these event types (comma-separated).") -> Callable[[F], F]:
    return click.option("-t", "--types", "types", type=EventTypesParam(), default=None, help=help)
