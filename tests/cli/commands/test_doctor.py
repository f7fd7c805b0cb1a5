"""``trove doctor``: every section, the live check with isolation and capabilities."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Trove
from tests.cli.runner import invoke, json_out
from trove_cli.config import Config


def test_the_report_has_every_section_and_a_live_check(trove: Trove, trove_server: Any) -> None:
    result = trove("doctor")
    assert result.exit_code == 0
    out = result.stdout
    for title in ("CLI", "Config", "Environment", "Active profile", "Live check"):
        assert f"\n{title}\n" in f"\n{out}"
    assert "✓ /v1/me OK — scope=workspace" in out
    assert f"isolation: {trove_server.isolation}" in out
    assert "capabilities      : " in out and "events.stream" in out
    assert "✓ file mode is 0o600" in out
    assert trove_server.api_key not in out


def test_json_report_says_ok(trove: Trove) -> None:
    data = json_out(trove("doctor", "--json"))
    assert data["ok"] is True
    assert [s["title"] for s in data["sections"]] == [
        "CLI",
        "Config",
        "Environment",
        "Active profile",
        "Live check",
    ]


def test_without_a_profile_it_reports_and_exits_1(trove_home: str) -> None:
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ no config file" in result.stdout
    assert "✗ no profile named 'default'" in result.stdout


def test_a_revoked_key_is_reported_as_rejected(trove_home: str, trove_server: Any) -> None:
    key = trove_server.create_key("doctor-revoked")
    with trove_server.admin() as admin:
        admin.revoke_key(key.key_id)
    invoke("login", "--base-url", trove_server.base_url, "--api-key", trove_server.api_key)
    Config().update("default", api_key=key.api_key)
    result = invoke("doctor")
    assert result.exit_code == 0
    assert "✗ auth rejected (401)" in result.stdout


def test_a_loose_file_mode_is_warned_about(trove: Trove, profiles: Config) -> None:
    profiles.path.chmod(0o644)
    assert "⚠ file mode is 0o644; it holds keys: chmod 600" in trove("doctor").stdout


def test_env_vars_are_listed_with_the_key_masked(trove_home: str, trove_server: Any) -> None:
    env = {
        "TROVE_API_KEY": trove_server.api_key,
        "TROVE_WORKSPACE_ID": trove_server.workspace_id,
        "TROVE_BASE_URL": trove_server.base_url,
    }
    result = invoke("doctor", env=env)
    assert result.exit_code == 0
    assert "source            : environment" in result.stdout
    assert trove_server.api_key not in result.stdout
    assert f"TROVE_WORKSPACE_ID: {trove_server.workspace_id}" in result.stdout


def test_a_base_url_without_a_scheme_is_reported_not_dialled(trove_home: str) -> None:
    env = {
        "TROVE_API_KEY": "trove-sk-" + "0" * 48,
        "TROVE_WORKSPACE_ID": "ws-0000000000000000",
        "TROVE_BASE_URL": "localhost:8787",
    }
    result = invoke("doctor", env=env)
    assert result.exit_code == 0
    assert "✗ base url unusable: 'localhost:8787' has no http:// or https://" in result.stdout
