"""Time as the server stores and prints it.

Instants are integer milliseconds since the epoch in the database (comparisons stay exact)
and D14 strings on the wire (``2026-04-30T00:00:00.000Z``, via ``trove_sdk``'s formatter).
``parse_instant`` reads what clients send as ``since``: RFC 3339 / ISO-8601 with ``Z`` or an
offset, naive timestamps (UTC), dates, ``now``, or a duration back from now (``5m``, ``1h30m``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

from trove_sdk._samples import utc_timestamp

__all__ = ["InstantError", "iso", "now_ms", "parse_instant"]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


class InstantError(ValueError):
    """Text that is neither a timestamp nor a duration."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    """D14: RFC 3339 UTC, milliseconds, ``Z``."""
    return utc_timestamp(datetime.fromtimestamp(ms / 1000, timezone.utc))


def parse_instant(text: str, *, now: int | None = None) -> int:
    """Milliseconds since the epoch for a ``since`` value; raises ``InstantError``."""
    value = text.strip()
    current = now_ms() if now is None else now
    if not value:
        raise InstantError("an empty value is not a timestamp")
    if value.lower() == "now":
        return current
    duration = _DURATION.match(value)
    if duration and any(duration.groups()):
        d, h, m, s = (int(g or 0) for g in duration.groups())
        return current - ((d * 24 + h) * 3600 + m * 60 + s) * 1000
    iso_text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        moment = datetime.fromisoformat(iso_text)
    except ValueError:
        raise InstantError(
            f"{text!r} is not a timestamp (use ISO-8601 such as 2026-04-30T12:00:00Z) "
            "or a duration such as 5m or 1h30m"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    # Millisecond precision, like every timestamp the server emits: an event printed as
    # ...00.123Z is not "after" a since of ...00.123Z.
    return (moment - _EPOCH) // _MS
