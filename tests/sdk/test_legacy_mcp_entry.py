"""MCP client configs written by trove-sdk 0.7–0.10 keep working after an upgrade."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_old_module_path_starts_the_mcp_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0.7.6 wrote ``python -m trove_sdk.mcp.server``; with no env it must reach trove_mcp's
    own configuration check (exit 2, a message on stderr), not a missing-module error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env["TROVE_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "trove_sdk.mcp.server"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert "TROVE_API_KEY" in result.stderr
    assert result.stdout == ""
