"""Fixtures for the server's tests: raw HTTP, a real webhook receiver, the sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.support import REQUIRE_SANDBOX


@pytest.fixture
def http(trove_server: Any) -> Iterator[httpx.Client]:
    """A plain ``httpx.Client`` on the session server (no credentials)."""
    with httpx.Client(base_url=trove_server.base_url, timeout=60) as raw:
        yield raw


@pytest.fixture
def sandboxed(trove_server: Any) -> Any:
    """The session server, which must isolate commands with bubblewrap (CI: or fail)."""
    if trove_server.isolation != "bwrap":
        message = "commands are not sandboxed here (bubblewrap unusable)"
        if REQUIRE_SANDBOX:
            pytest.fail(f"{message}; CI requires it (TROVE_TEST_REQUIRE_SANDBOX=1)")
        pytest.skip(message)
    return trove_server


CAPPED_SETTINGS: dict[str, Any] = {
    "max_upload_bytes": 64 * 1024,
    "max_download_bytes": 4096,
    "preview_bytes": 64,
    "listing_max_entries": 10,
    "listing_max_depth": 3,
    "exec_output_cap": 1000,
    "exec_file_size_mb": 4,
    "exec_processes": 64,
    "exec_memory_mb": 512,
    "exec_network": "none",
    "exec_timeout": 5.0,
    "exec_timeout_max": 10.0,
    "snapshot_list_max": 3,
    "retry_schedule": (0.05,),
}


@pytest.fixture(scope="session")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A second server with tiny limits, so every cap can be hit in milliseconds.

    ``exec_network=none`` needs bubblewrap; where it is unusable (and CI does not require it)
    the server keeps the network, and the tests that need the sandbox skip on ``isolation``.
    """
    from trove_server.sandbox import SandboxUnavailable
    from trove_server.testing import run_server

    settings = dict(CAPPED_SETTINGS, require_sandbox=REQUIRE_SANDBOX)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(
                run_server(tmp_path_factory.mktemp("capped-server"), **settings)
            )
        except SandboxUnavailable:
            if REQUIRE_SANDBOX:
                raise
            settings["exec_network"] = "host"
            server = stack.enter_context(
                run_server(tmp_path_factory.mktemp("capped-server"), **settings)
            )
        yield server


@pytest.fixture
def capped(capped_server: Any, namespace: str) -> Iterator[Any]:
    """A ``TroveClient`` on the capped server."""
    with capped_server.client(namespace) as client:
        yield client
