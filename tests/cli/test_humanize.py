"""Sizes, masked secrets and local times as the CLI prints them (CONTRACT §5.4, §5.6)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from trove_cli.humanize import format_local, format_size, mask_secret, parse_iso, short_time


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1.0KB"),
        (1536, "1.5KB"),
        (1024**2, "1.0MB"),
        (int(1024**3 * 1.25), "1.25GB"),
        (None, "?"),
        ("abc", "?"),
        (True, "?"),
    ],
)
def test_sizes_are_base_1024(value: object, text: str) -> None:
    assert format_size(value) == text


def test_a_key_shows_its_first_14_and_last_4_characters() -> None:
    assert mask_secret("trove-sk-0123456789abcdef") == "trove-sk-01234…cdef"


def test_short_secrets_are_fully_hidden() -> None:
    assert mask_secret("12345678") == "***"
    assert mask_secret("123456789012", short=12) == "***"
    assert mask_secret("123456789") != "***"


def test_a_missing_secret_is_a_dash() -> None:
    assert mask_secret(None) == "-"
    assert mask_secret("") == "-"


def test_parse_iso_accepts_any_fraction_length_on_every_supported_python() -> None:
    assert parse_iso("2026-04-30T00:00:00.1Z") == datetime(
        2026, 4, 30, 0, 0, 0, 100000, tzinfo=timezone.utc
    )
    assert parse_iso("2026-04-30T00:00:00.1234567Z").microsecond == 123456


def test_local_times_fall_back_to_the_raw_text_when_unparseable() -> None:
    assert format_local("yesterday-ish") == "yesterday-ish"
    assert format_local(None) == "-"


def test_event_times_show_the_date_only_when_not_today() -> None:
    now = datetime(2026, 4, 30, 12, 0, tzinfo=timezone.utc)
    today = short_time("2026-04-30T11:59:00.000Z", now=now)
    other = short_time("2026-04-28T11:59:00.000Z", now=now)
    assert len(today) == 8 and today.count(":") == 2
    assert len(other) == 14 and other[2] == "-"


def test_a_timestamp_that_leaves_the_calendar_in_utc_is_shown_raw() -> None:
    """A server's odd offset must not crash a listing: the raw text is shown instead."""
    assert format_local("9999-12-31T23:00:00-02:00") == "9999-12-31T23:00:00-02:00"
