"""``Settings``: one place where every server setting is checked."""

from __future__ import annotations

import pytest

from trove_server.settings import Settings, SettingsError, parse_duration, parse_retry_schedule


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("5s", 5), ("2m", 120), ("1h30m", 5400), ("1d", 86400), ("0.5", 0.5)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m", "1h-3m", "ten"])
def test_bad_durations_are_refused(text):
    with pytest.raises(SettingsError):
        parse_duration(text)


def test_a_retry_schedule_is_a_list_of_durations():
    assert parse_retry_schedule("5s, 30s,2m") == (5.0, 30.0, 120.0)
    assert parse_retry_schedule("") == ()


def test_defaults_follow_the_contract(tmp_path):
    settings = Settings(tmp_path)
    assert settings.retry_schedule == (5, 30, 120, 600, 1800, 3600, 10800, 21600)
    assert settings.exec_timeout == 30
    assert settings.max_upload_bytes == settings.max_download_bytes == 104_857_600
    assert settings.sse_keepalive == 15


@pytest.mark.parametrize(
    "changes",
    [
        {"sandbox": "docker"},
        {"exec_network": "bridge"},
        {"sandbox": "none", "require_sandbox": True},
        {"sandbox": "none", "exec_network": "none"},
        {"exec_timeout": 0},
        {"exec_timeout": 700},
        {"retry_schedule": (-1,)},
        {"port": 70000},
        {"sse_keepalive": 0},
        {"exec_processes": 0},
        {"exec_memory_mb": -1},
        {"listing_max_entries": 0},
        {"snapshot_retention_days": 0},
    ],
)
def test_impossible_settings_are_refused(tmp_path, changes):
    with pytest.raises(SettingsError):
        Settings(tmp_path, **changes)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"exec_processes": "many"}, "exec_processes must be a whole number, not 'many'"),
        ({"exec_processes": 2.5}, "exec_processes must be a whole number"),
        ({"port": True}, "port must be a whole number"),
        ({"exec_timeout": "30"}, "exec_timeout must be a number"),
        ({"allow_signup": "yes"}, "allow_signup must be true or false"),
        ({"public_url": 5}, "public_url must be a string or null"),
        ({"retry_schedule": ["5s"]}, "retry_schedule must be a list of seconds"),
        ({"data_dir": 7}, "data_dir must be a path"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_by_name(tmp_path, changes, complaint):
    """A --config file is JSON: its values arrive with whatever type the file gave them."""
    values = {"data_dir": tmp_path, **changes}
    with pytest.raises(SettingsError) as info:
        Settings(**values)
    assert complaint in str(info.value)


def test_unknown_setting_names_are_refused(tmp_path):
    with pytest.raises(SettingsError, match="exec_timout"):
        Settings(tmp_path).with_changes(exec_timout=3)
