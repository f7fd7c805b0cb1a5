"""Timestamps the server emits (D14) and ``since`` values it reads."""

from __future__ import annotations

import pytest

from trove_server.clock import InstantError, iso, parse_instant

NOW = 1_777_507_200_000  # 2026-04-30T00:00:00.000Z


def test_iso_is_rfc3339_utc_with_milliseconds():
    assert iso(NOW + 7) == "2026-04-30T00:00:00.007Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-30T00:00:00Z", NOW),
        ("2026-04-30T00:00:00.123Z", NOW + 123),
        ("2026-04-30T00:00:00.123456+00:00", NOW + 123),
        ("2026-04-30T02:00:00+02:00", NOW),
        ("2026-04-30T00:00:00", NOW),
        ("2026-04-30", NOW),
        ("now", NOW),
        ("5m", NOW - 300_000),
        ("1h30m", NOW - 5_400_000),
        ("2d", NOW - 172_800_000),
    ],
)
def test_since_values(text, expected):
    assert parse_instant(text, now=NOW) == expected


def test_an_emitted_timestamp_reads_back_to_the_same_instant():
    assert parse_instant(iso(NOW + 42), now=0) == NOW + 42


@pytest.mark.parametrize("text", ["", "yesterday", "5", "1h30", "2026-13-01", "5x"])
def test_garbage_is_refused(text):
    with pytest.raises(InstantError):
        parse_instant(text, now=NOW)
