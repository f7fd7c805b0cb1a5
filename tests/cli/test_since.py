"""``--since`` (CONTRACT §5.5): what is accepted, what it means, and what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
import pytest

from trove_cli.since import SinceParam, parse_duration, parse_since

NOW = datetime(2026, 5, 7, 20, 0, 0, tzinfo=timezone.utc)


def test_now_is_the_current_instant() -> None:
    assert parse_since("now", now=NOW) == NOW


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d4h15m", timedelta(days=2, hours=4, minutes=15)),
    ],
)
def test_durations_count_back_from_now(text: str, ago: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - ago


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, tzinfo=timezone.utc)),
        ("2026-05-01T12:00:00+02:00", datetime(2026, 5, 1, 10, tzinfo=timezone.utc)),
        ("2026-05-01T10:00:00", datetime(2026, 5, 1, 10, tzinfo=timezone.utc)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=timezone.utc)),
        (
            "2026-05-01T10:00:00.123Z",
            datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=timezone.utc),
        ),
    ],
)
def test_timestamps_are_normalised_to_utc(text: str, expected: datetime) -> None:
    result = parse_since(text, now=NOW)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["5", "1h30", "5x", "", "m5", "1h 30m", "-5m", "soon"])
def test_malformed_durations_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected `now`, a duration"):
        parse_since(text, now=NOW)


@pytest.mark.parametrize("text", ["2026-13-01", "2026-05-01T25:00:00Z", "12:00:xx"])
def test_malformed_timestamps_are_refused_as_timestamps(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid ISO timestamp"):
        parse_since(text, now=NOW)


def test_parse_duration_rejects_partial_matches() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1h30")


def test_the_click_type_turns_a_bad_value_into_a_usage_error_naming_it() -> None:
    @click.command()
    @click.option("--since", type=SinceParam())
    def command(since: datetime) -> None:
        click.echo(since.isoformat())

    from click.testing import CliRunner

    result = CliRunner().invoke(command, ["--since", "5x"])
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.stderr
    assert "'5x'" in result.stderr


@pytest.mark.parametrize("text", ["99999999999d", "9999999d", "99999999999999999999s"])
def test_a_duration_too_long_to_count_is_refused_not_crashed_on(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_since(text, now=NOW)


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00"])
def test_a_timestamp_outside_the_calendar_once_in_utc_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid ISO timestamp"):
        parse_since(text, now=NOW)


def test_a_huge_since_on_the_command_line_is_a_usage_error(trove_home: str) -> None:
    from tests.cli.runner import invoke

    result = invoke("events", "list", "--since", "99999999999d")
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.stderr
    assert "OverflowError" not in result.stderr
