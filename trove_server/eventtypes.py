"""Event type filters: ``*``, a group such as ``file.*``, or an exact name from the catalogue.

Webhook subscriptions, the feed's ``types=`` and the stream's ``types=`` all read filters
through here, and every name is checked against ``trove_sdk.EVENT_TYPES`` — the one list of
event names — so a typo gets a 422 with a suggestion instead of a silent empty result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trove_sdk import EVENT_TYPES, suggest_event_type
from trove_server.errors import Unprocessable

__all__ = ["ALL", "matches", "parse_patterns", "split_csv", "sql_clause"]

ALL = ("*",)
_GROUPS = frozenset(name.split(".", 1)[0] for name in EVENT_TYPES)


def split_csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_patterns(names: Iterable[str], where: str) -> tuple[str, ...]:
    """Validated, de-duplicated patterns; an empty list means everything (``*``)."""
    patterns: list[str] = []
    for raw in names:
        name = raw.strip()
        if name == "*":
            return ALL
        if name.endswith(".*"):
            if name[:-2] not in _GROUPS:
                groups = ", ".join(f"{g}.*" for g in sorted(_GROUPS))
                raise Unprocessable(f"{where}: unknown event group {name!r} (known: {groups})")
        elif name not in EVENT_TYPES:
            hint = suggest_event_type(name)
            suffix = f" (did you mean {hint!r}?)" if hint else ""
            raise Unprocessable(f"{where}: unknown event type {name!r}{suffix}")
        if name not in patterns:
            patterns.append(name)
    return tuple(patterns) or ALL


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def sql_clause(patterns: tuple[str, ...], column: str = "type") -> tuple[str, list[Any]]:
    """A SQL condition (and its parameters) selecting the matching types."""
    if patterns == ALL:
        return "1", []
    exact = [p for p in patterns if not p.endswith(".*")]
    groups = [p[:-1] for p in patterns if p.endswith(".*")]
    parts: list[str] = []
    params: list[Any] = []
    if exact:
        parts.append(f"{column} IN ({','.join('?' * len(exact))})")
        params.extend(exact)
    for prefix in groups:
        parts.append(f"substr({column}, 1, ?) = ?")
        params.extend([len(prefix), prefix])
    return "(" + " OR ".join(parts) + ")", params
