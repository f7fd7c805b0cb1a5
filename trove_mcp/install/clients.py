"""Where each MCP client keeps its server list, per operating system.

Each client is a ``Client`` row in ``CLIENTS``: the JSON file, the key under which servers
live (``mcpServers``, or ``servers`` for VS Code), extra fields its entries need, and whether
the installer may pick it without being asked. Paths are computed from a ``Host`` (platform,
home, ``%APPDATA%``, working directory) rather than from globals, so every OS layout can be
exercised from one machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CLIENTS", "Client", "Host", "detect", "resolve_client_names"]


@dataclass(frozen=True)
class Host:
    """The facts config paths depend on."""

    platform: str  # sys.platform spelling: "darwin", "win32", "linux", ...
    home: Path
    cwd: Path
    appdata: Path | None = None  # %APPDATA% on Windows

    @classmethod
    def current(cls) -> Host:
        appdata = os.environ.get("APPDATA")
        return cls(
            platform=sys.platform,
            home=Path.home(),
            cwd=Path.cwd(),
            appdata=Path(appdata) if appdata else None,
        )

    def roaming(self) -> Path:
        """``%APPDATA%``, falling back to its usual place under the profile."""
        return self.appdata or self.home / "AppData" / "Roaming"

    def app_config(self, *parts: str) -> Path:
        """The per-user application settings folder of an Electron app (Claude, VS Code)."""
        if self.platform == "darwin":
            return self.home.joinpath("Library", "Application Support", *parts)
        if self.platform == "win32":
            return self.roaming().joinpath(*parts)
        return self.home.joinpath(".config", *parts)


@dataclass(frozen=True)
class Client:
    """One MCP client and how its config file is laid out."""

    key: str  # the --client value
    label: str
    locate: Callable[[Host], Path]
    servers_key: str = "mcpServers"
    # Fields every entry of this client carries besides command/args/env.
    entry_fields: Mapping[str, str] = field(default_factory=dict)
    # A project-scoped config sits in a directory that is often under version control, and
    # is written only when asked for: auto-detecting it would drop a file into whatever
    # directory the command happened to run in.
    project: bool = False

    @property
    def auto_detect(self) -> bool:
        return not self.project

    def path(self, host: Host) -> Path:
        return self.locate(host)


CLIENTS: dict[str, Client] = {
    client.key: client
    for client in (
        Client(
            "claude-desktop",
            "Claude Desktop",
            lambda host: host.app_config("Claude", "claude_desktop_config.json"),
        ),
        Client("cursor", "Cursor", lambda host: host.home / ".cursor" / "mcp.json"),
        Client(
            "claude-code",
            "Claude Code (project)",
            lambda host: host.cwd / ".mcp.json",
            project=True,
        ),
        Client(
            "vscode",
            "VS Code",
            lambda host: host.app_config("Code", "User", "mcp.json"),
            servers_key="servers",
            entry_fields={"type": "stdio"},
        ),
        Client(
            "windsurf",
            "Windsurf",
            lambda host: host.home / ".codeium" / "windsurf" / "mcp_config.json",
        ),
    )
}


def detect(host: Host) -> list[str]:
    """Clients that look installed: their config *directory* exists (a fresh install has the
    directory before it has the file)."""
    return [
        key
        for key, client in CLIENTS.items()
        if client.auto_detect and client.path(host).parent.is_dir()
    ]


def resolve_client_names(names: list[str] | tuple[str, ...]) -> list[str]:
    """Validate ``--client`` values (case-insensitive), keep their order, drop repeats."""
    chosen: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if name not in CLIENTS:
            known = ", ".join(CLIENTS)
            raise ValueError(f"unknown MCP client {raw!r}; known clients: {known}")
        if name not in chosen:
            chosen.append(name)
    return chosen
