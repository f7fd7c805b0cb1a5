"""``--since`` values (CONTRACT §5.5): ``now``, ``5m``, ``1h30m``, ISO timestamps, dates.

A value is read as a timestamp when it contains ``T`` or ``:`` or at least two ``-``;
otherwise it must be made entirely of ``<int><unit>`` chunks (``s``, ``m``, ``h``, ``d``).
Everything resolves to an aware UTC datetime.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from trove_cli.humanize import parse_iso

__all__ = ["SinceParam", "parse_duration", "parse_since"]

_CHUNK = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMS = "`now`, a duration such as `5m` or `1h30m`, or an ISO timestamp"


def parse_duration(text: str) -> timedelta:
    """``1h30m`` → 90 minutes; raises ``ValueError`` unless the whole text is chunks."""
    raw = text.strip()
    chunks = _CHUNK.findall(raw)
    if not chunks or "".join(n + u for n, u in chunks) != raw:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 2h, 1d or 1h30m")
    try:
        return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in chunks))
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any duration this tool can count") from None


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """Resolve a ``--since`` value to a UTC instant; raises ``ValueError`` saying why not."""
    raw = text.strip()
    now = now or datetime.now(timezone.utc)
    if raw == "now":
        return now
    if "T" in raw or ":" in raw or raw.count("-") >= 2:
        if _DATE_ONLY.fullmatch(raw):
            raw += "T00:00:00+00:00"
        try:
            return parse_iso(raw)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid ISO timestamp ({exc})") from None
    try:
        ago = parse_duration(raw)
    except ValueError:
        raise ValueError(f"expected {_FORMS}, got {text!r}") from None
    try:
        return now - ago
    except OverflowError:
        raise ValueError(f"{text!r} reaches back before the year 1") from None


class SinceParam(click.ParamType):
    """A click type: ``--since 10m`` arrives in the command as a UTC datetime."""

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_since(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
