"""``trove mcp install | uninstall | status | serve`` through click, on a temporary HOME.

These tests need no server: the profile points at a closed port, so the key check only
warns. Key checks and ``--mint-key`` against the real local server are in
``test_cli_keys.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from trove_cli.config import Config, Profile
from trove_cli.root import cli

KEY = "trove-sk-" + "2" * 32
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trove_home: str) -> Path:
    """A home directory with no MCP client, a project directory as cwd, and a saved profile."""
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.chdir(project)
    Config().save(
        Profile(
            name="default",
            api_key=KEY,
            workspace_id="ws-0123456789abcdef",
            base_url=UNREACHABLE,
            namespace="alice",
        )
    )
    return home


def trove(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def servers(path: Path, key: str = "mcpServers") -> dict[str, dict[str, object]]:
    return json.loads(path.read_text())[key]  # type: ignore[no-any-return]


def test_install_writes_each_named_client_and_says_where(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "cursor", "--client", "vscode")
    assert result.exit_code == 0, result.output
    cursor = machine / ".cursor" / "mcp.json"
    vscode = machine / ".config" / "Code" / "User" / "mcp.json"
    assert result.stdout.splitlines() == [
        f"✓ Cursor: wrote 'trove' → {cursor}",
        f"✓ VS Code: wrote 'trove' → {vscode}",
    ]
    entry = servers(cursor)["trove"]
    assert entry["env"] == {
        "TROVE_API_KEY": KEY,
        "TROVE_NAMESPACE": "alice",
        "TROVE_BASE_URL": UNREACHABLE,
    }
    assert servers(vscode, "servers")["trove"]["type"] == "stdio"
    assert "profile=default  namespace=alice  workspace=ws-0123456789abcdef" in result.stderr
    assert "fully quit each client" in result.stderr


def test_an_unreachable_server_only_warns(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "cursor")
    assert result.exit_code == 0
    assert f"could not check the key against {UNREACHABLE}" in result.stderr


def test_install_defaults_to_the_clients_found_here(machine: Path) -> None:
    (machine / ".codeium" / "windsurf").mkdir(parents=True)
    result = trove("mcp", "install")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✓ Windsurf: wrote 'trove'")
    assert not (machine / ".cursor").exists()
    assert not Path(".mcp.json").exists()


def test_claude_code_writes_the_project_file_in_the_current_directory(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "claude-code")
    assert result.exit_code == 0
    assert "trove" in servers(Path.cwd() / ".mcp.json")


def test_a_project_config_comes_with_a_version_control_warning(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "claude-code")
    assert ".mcp.json now holds an API key: keep it out of version control" in result.stderr
    other = trove("mcp", "install", "--client", "cursor")
    assert "version control" not in other.stderr


def test_reinstalling_an_unchanged_entry_writes_nothing(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor")
    result = trove("mcp", "install", "--client", "cursor")
    assert result.exit_code == 0
    path = machine / ".cursor" / "mcp.json"
    assert result.stdout == f"- Cursor: 'trove' already up to date → {path}\n"
    assert not path.with_name("mcp.json.bak").exists()
    assert "fully quit" not in result.stderr


def test_install_without_the_mcp_package_names_the_extra(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mcp" else real(name, *a)
    )
    result = trove("mcp", "install", "--client", "cursor")
    assert result.exit_code == 1
    assert "pip install 'trove-sdk[mcp]'" in result.stderr
    assert not (machine / ".cursor").exists()


def test_with_no_client_found_install_names_the_choices(machine: Path) -> None:
    result = trove("mcp", "install")
    assert result.exit_code == 1
    assert "no MCP client found on this machine; name one with --client" in result.stderr
    assert "claude-desktop, cursor, claude-code, vscode, windsurf" in result.stderr


def test_an_unknown_client_is_a_usage_error(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "zed")
    assert result.exit_code == 2
    assert "'zed' is not one of" in result.stderr
    assert "'windsurf'" in result.stderr


def test_one_broken_config_does_not_stop_the_others(machine: Path) -> None:
    cursor = machine / ".cursor" / "mcp.json"
    cursor.parent.mkdir()
    cursor.write_text("{broken")
    result = trove("mcp", "install", "--client", "cursor", "--client", "windsurf")
    assert result.exit_code == 1
    assert f"✗ Cursor: {cursor} is not valid JSON" in result.stderr
    assert result.stdout.startswith("✓ Windsurf: wrote 'trove'")
    assert cursor.read_text() == "{broken"


def test_an_unwritable_config_directory_is_reported(machine: Path) -> None:
    (machine / ".cursor").write_text("")
    result = trove("mcp", "install", "--client", "cursor")
    assert result.exit_code == 1
    assert "✗ Cursor: cannot write" in result.stderr
    assert "is a file, not a directory" in result.stderr


def test_the_namespace_option_wins_over_the_profile(machine: Path) -> None:
    assert trove("mcp", "install", "--client", "cursor", "-n", "bob").exit_code == 0
    env = servers(machine / ".cursor" / "mcp.json")["trove"]["env"]
    assert env["TROVE_NAMESPACE"] == "bob"  # type: ignore[index]


def test_an_invalid_namespace_is_refused_before_writing(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "cursor", "-n", "a b")
    assert result.exit_code == 1
    assert "invalid namespace 'a b'" in result.stderr
    assert not (machine / ".cursor").exists()


def test_a_missing_profile_exits_3(machine: Path) -> None:
    result = trove("mcp", "install", "--client", "cursor", "--profile", "nope")
    assert result.exit_code == 3
    assert "no profile named 'nope'" in result.stderr


def test_a_reinstall_keeps_the_previous_file_as_a_backup(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor")
    result = trove("mcp", "install", "--client", "cursor", "-n", "bob")
    backup = machine / ".cursor" / "mcp.json.bak"
    assert f"previous file kept as {backup}" in result.stderr
    assert servers(backup)["trove"]["env"]["TROVE_NAMESPACE"] == "alice"  # type: ignore[index]


def test_status_json_covers_every_client(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor")
    result = trove("mcp", "status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["server_name"] == "trove"
    rows = {row["client"]: row for row in data["clients"]}
    assert list(rows) == ["claude-desktop", "cursor", "claude-code", "vscode", "windsurf"]
    assert rows["cursor"]["configured"] is True
    assert rows["cursor"]["namespace"] == "alice"
    assert rows["cursor"]["command_exists"] is True
    assert rows["claude-desktop"] == {
        "client": "claude-desktop",
        "label": "Claude Desktop",
        "path": str(machine / ".config" / "Claude" / "claude_desktop_config.json"),
        "config_exists": False,
        "configured": False,
        "namespace": None,
        "base_url": None,
        "command": None,
        "command_exists": None,
        "key_id": None,
        "error": None,
    }
    assert KEY not in result.stdout


def test_status_text_marks_configured_and_missing_clients(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor")
    result = trove("mcp", "status")
    lines = result.stdout.splitlines()
    assert lines[0] == "  Claude Desktop         not found"
    assert lines[1] == f"✓ Cursor                 namespace=alice  server={UNREACHABLE}"
    assert KEY not in result.output


def test_uninstall_removes_the_entry_from_every_configured_client(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor", "--client", "claude-code")
    result = trove("mcp", "uninstall")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"✓ Cursor: removed 'trove' from {machine / '.cursor' / 'mcp.json'}",
        f"✓ Claude Code (project): removed 'trove' from {Path.cwd() / '.mcp.json'}",
    ]
    assert json.loads((machine / ".cursor" / "mcp.json").read_text()) == {}


def test_uninstall_of_a_named_client_without_the_entry_is_not_an_error(machine: Path) -> None:
    result = trove("mcp", "uninstall", "--client", "windsurf")
    assert result.exit_code == 0
    assert result.stdout.startswith("- Windsurf: 'trove' not present")


def test_uninstall_with_nothing_configured_says_so(machine: Path) -> None:
    result = trove("mcp", "uninstall")
    assert result.exit_code == 0
    assert "no client has a 'trove' server configured" in result.stderr


def test_serve_without_configuration_exits_2(machine: Path, trove_home: str) -> None:
    Path(trove_home, "config.json").unlink()
    result = trove("mcp", "serve")
    assert result.exit_code == 2
    assert "no profile named 'default'" in result.stderr


def test_a_profile_key_no_http_header_can_carry_is_refused_unechoed(machine: Path) -> None:
    Config().save(
        Profile(name="pasted", api_key=KEY + "\n" + KEY, workspace_id="ws-0123456789abcdef")
    )
    result = trove("mcp", "install", "--client", "cursor", "--profile", "pasted", "-n", "a")
    assert result.exit_code == 1
    assert "profile 'pasted' holds an API key that contains spaces, control" in result.stderr
    assert KEY not in result.output
    assert not (machine / ".cursor").exists()


def test_serve_refuses_a_port_out_of_range(machine: Path) -> None:
    result = trove("mcp", "serve", "--http", "--port", "70000")
    assert result.exit_code == 2
    assert "70000 is not in the range 1<=x<=65535" in result.stderr


def test_install_json_prints_one_object_with_a_row_per_client(machine: Path) -> None:
    cursor = machine / ".cursor" / "mcp.json"
    cursor.parent.mkdir()
    cursor.write_text("{broken")
    result = trove("mcp", "install", "--client", "windsurf", "--client", "cursor", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["server_name"], data["profile"], data["namespace"]) == (
        "trove",
        "default",
        "alice",
    )
    windsurf, broken = data["clients"]
    assert windsurf == {
        "client": "windsurf",
        "label": "Windsurf",
        "path": str(machine / ".codeium" / "windsurf" / "mcp_config.json"),
        "ok": True,
        "changed": True,
        "message": "wrote 'trove'",
        "backup": None,
        "key_id": None,
    }
    assert (broken["client"], broken["ok"], broken["changed"]) == ("cursor", False, False)
    assert "is not valid JSON" in broken["message"]
    assert "✗ Cursor" in result.stderr
    assert KEY not in result.stdout


def test_uninstall_json_reports_each_client(machine: Path) -> None:
    trove("mcp", "install", "--client", "cursor")
    result = trove("mcp", "uninstall", "--client", "cursor", "--client", "windsurf", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [
        (r["client"], r["changed"], r["message"], r["key_revoked"]) for r in data["clients"]
    ] == [
        ("cursor", True, "removed 'trove'", False),
        ("windsurf", False, "'trove' not present", False),
    ]
    assert data["clients"][0]["backup"] == str(machine / ".cursor" / "mcp.json.bak")


def test_uninstall_json_with_nothing_configured_is_an_empty_list(machine: Path) -> None:
    result = trove("mcp", "uninstall", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"server_name": "trove", "clients": []}


@pytest.mark.parametrize("name", ["", "  ", " trove", "tro\nve"])
def test_a_blank_or_untidy_server_name_is_a_usage_error(machine: Path, name: str) -> None:
    result = trove("mcp", "install", "--client", "cursor", "--name", name)
    assert result.exit_code == 2
    assert "is not a usable server name" in result.stderr
    assert not (machine / ".cursor").exists()
