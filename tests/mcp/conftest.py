"""Fixtures of the MCP tests: host layouts for the installer, sessions against the server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.mcp.session import Connect
from trove_mcp.install.clients import Host
from trove_mcp.server import create_server
from trove_mcp.settings import Settings


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


@pytest.fixture
def settings(trove_server: Any, namespace: str) -> Settings:
    """The local server's unscoped workspace key, in this test's own namespace."""
    return Settings(trove_server.api_key, namespace, trove_server.base_url)


@pytest.fixture
def connect(settings: Settings) -> Connect:
    """``async with connect() as client``: an in-memory MCP session with a fresh server
    (``connect(other_settings)`` for another key or namespace)."""

    @asynccontextmanager
    async def session(chosen: Settings | None = None) -> AsyncIterator[Client]:
        async with Client(create_server(chosen or settings), raise_exceptions=True) as client:
            yield client

    return session
