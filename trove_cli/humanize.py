"""Values as people read them: sizes, masked secrets, local times (CONTRACT §5.4–5.6)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = [
    "format_local",
    "format_size",
    "mask_secret",
    "parse_iso",
    "parse_timestamp",
    "short_time",
]


def format_size(value: object) -> str:
    """Base-1024: ``512B``, ``1.5KB``, ``3.0MB``, ``1.25GB``; ``?`` for a non-number."""
    if isinstance(value, bool):
        return "?"
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "?"
    if n < 1024:
        return f"{n}B"
    if n < 1024**2:
        return f"{n / 1024:.1f}KB"
    if n < 1024**3:
        return f"{n / 1024**2:.1f}MB"
    return f"{n / 1024**3:.2f}GB"


def mask_secret(value: str | None, *, short: int = 8) -> str:
    """``trove-sk-0123…cdef``: the first 14 and last 4 characters. Values of ``short``
    characters or fewer show as ``***`` (``doctor`` uses 12), ``-`` when unset."""
    if not value:
        return "-"
    if len(value) <= short:
        return "***"
    return f"{value[:14]}…{value[-4:]}"


# Python 3.10's fromisoformat takes only 3 or 6 fractional digits and no "Z".
_FRACTION = re.compile(r"\.(\d+)")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 timestamp (``Z`` or an offset; naive means UTC) as an aware UTC datetime;
    raises ``ValueError`` when it does not parse."""
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    raw = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), raw, count=1)
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:00-02:00 is in the year 10000 once in UTC
        raise ValueError(f"{text!r} is out of the range of dates") from None


def parse_timestamp(text: str | None) -> datetime | None:
    """An API timestamp as an aware datetime, or None when missing or unparseable."""
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def format_local(text: str | None) -> str:
    """``2026-04-30 14:05`` in the local time zone; the raw text if it does not parse."""
    moment = parse_timestamp(text)
    if moment is None:
        return text or "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def short_time(text: str | None, *, now: datetime | None = None) -> str:
    """Local ``HH:MM:SS`` for today, ``MM-DD HH:MM:SS`` for other days (event lines)."""
    moment = parse_timestamp(text)
    if moment is None:
        return (text or "")[:8]
    local = moment.astimezone()
    today = (now or datetime.now(timezone.utc)).astimezone(local.tzinfo).date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M:%S")
