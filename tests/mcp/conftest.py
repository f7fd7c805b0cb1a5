"""Fixtures of the MCP tests: host layouts for the installer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from trove_mcp.install.clients import Host

PLATFORMS = ["darwin", "win32", "linux"]


@pytest.fixture
def make_host(tmp_path: Path) -> Callable[[str], Host]:
    """A ``Host`` for ``platform`` whose home, %APPDATA% and project dir are under tmp_path."""

    def make(platform: str) -> Host:
        home = tmp_path / "home"
        cwd = tmp_path / "project"
        home.mkdir(exist_ok=True)
        cwd.mkdir(exist_ok=True)
        appdata = home / "AppData" / "Roaming" if platform == "win32" else None
        return Host(platform=platform, home=home, cwd=cwd, appdata=appdata)

    return make
