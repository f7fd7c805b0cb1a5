"""Where each client's config lives on each OS, and which clients count as installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from trove_mcp.install.clients import CLIENTS, Host, detect, resolve_client_names

EXPECTED = {
    (
        "claude-desktop",
        "darwin",
    ): "home/Library/Application Support/Claude/claude_desktop_config.json",
    ("claude-desktop", "win32"): "home/AppData/Roaming/Claude/claude_desktop_config.json",
    ("claude-desktop", "linux"): "home/.config/Claude/claude_desktop_config.json",
    ("vscode", "darwin"): "home/Library/Application Support/Code/User/mcp.json",
    ("vscode", "win32"): "home/AppData/Roaming/Code/User/mcp.json",
    ("vscode", "linux"): "home/.config/Code/User/mcp.json",
    ("cursor", "darwin"): "home/.cursor/mcp.json",
    ("cursor", "win32"): "home/.cursor/mcp.json",
    ("cursor", "linux"): "home/.cursor/mcp.json",
    ("windsurf", "darwin"): "home/.codeium/windsurf/mcp_config.json",
    ("windsurf", "win32"): "home/.codeium/windsurf/mcp_config.json",
    ("windsurf", "linux"): "home/.codeium/windsurf/mcp_config.json",
    ("claude-code", "darwin"): "project/.mcp.json",
    ("claude-code", "win32"): "project/.mcp.json",
    ("claude-code", "linux"): "project/.mcp.json",
}


@pytest.mark.parametrize(("client", "platform"), sorted(EXPECTED), ids="-".join)
def test_each_client_config_path_per_os(
    client: str, platform: str, make_host: Callable[[str], Host], tmp_path: Path
) -> None:
    path = CLIENTS[client].path(make_host(platform))
    assert path == tmp_path / EXPECTED[client, platform]


def test_every_client_has_an_expected_path_on_every_os() -> None:
    assert {client for client, _ in EXPECTED} == set(CLIENTS)


def test_windows_without_appdata_falls_back_to_the_roaming_profile(tmp_path: Path) -> None:
    host = Host(platform="win32", home=tmp_path, cwd=tmp_path, appdata=None)
    assert CLIENTS["claude-desktop"].path(host) == (
        tmp_path / "AppData" / "Roaming" / "Claude" / "claude_desktop_config.json"
    )


def test_windows_uses_appdata_wherever_it_points(tmp_path: Path) -> None:
    host = Host(platform="win32", home=tmp_path / "h", cwd=tmp_path, appdata=tmp_path / "roam")
    assert CLIENTS["vscode"].path(host) == tmp_path / "roam" / "Code" / "User" / "mcp.json"


def test_vscode_keeps_servers_under_servers_with_a_stdio_type() -> None:
    assert CLIENTS["vscode"].servers_key == "servers"
    assert CLIENTS["vscode"].entry_fields == {"type": "stdio"}
    others = [c for key, c in CLIENTS.items() if key != "vscode"]
    assert {c.servers_key for c in others} == {"mcpServers"}


def test_nothing_is_detected_on_a_bare_machine(make_host: Callable[[str], Host]) -> None:
    assert detect(make_host("linux")) == []


@pytest.mark.parametrize("platform", ["darwin", "win32", "linux"])
def test_a_client_is_detected_by_its_config_directory(
    platform: str, make_host: Callable[[str], Host]
) -> None:
    host = make_host(platform)
    for key in ("claude-desktop", "vscode", "windsurf", "cursor"):
        CLIENTS[key].path(host).parent.mkdir(parents=True)
    assert detect(host) == ["claude-desktop", "cursor", "vscode", "windsurf"]


def test_claude_code_is_never_detected(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    (host.cwd / ".mcp.json").write_text("{}")
    assert "claude-code" not in detect(host)


def test_client_names_are_case_insensitive_and_deduplicated() -> None:
    assert resolve_client_names(["Cursor", "vscode", "cursor"]) == ["cursor", "vscode"]


def test_an_unknown_client_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown MCP client 'zed'; known clients: claude-desktop"):
        resolve_client_names(["zed"])
