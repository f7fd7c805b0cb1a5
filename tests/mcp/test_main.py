"""The ``trove-mcp`` entry point: configuration errors on stderr with exit 2, never stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    return subprocess.run(
        [sys.executable, "-m", "trove_mcp", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_missing_environment_exits_2_with_the_fix_on_stderr(tmp_path: Path) -> None:
    result = run(env={"TROVE_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("trove-mcp: TROVE_API_KEY and TROVE_NAMESPACE are not set.")


def test_an_unknown_profile_exits_2(tmp_path: Path) -> None:
    result = run("--profile", "nope", env={"TROVE_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no profile named 'nope'" in result.stderr


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("trove-mcp")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--profile" in result.stdout and "--http" in result.stdout


def test_without_the_mcp_package_it_says_which_extra_to_install(tmp_path: Path) -> None:
    code = "import sys; sys.modules['mcp'] = None\nfrom trove_mcp.__main__ import main\nmain([])"
    env = {"TROVE_API_KEY": "trove-sk-x", "TROVE_NAMESPACE": "a", "TROVE_HOME": str(tmp_path)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert "pip install 'trove-sdk[mcp]'" in result.stderr


@pytest.mark.parametrize("flag", ["--port", "--host"])
def test_http_options_are_documented(flag: str) -> None:
    from trove_mcp.__main__ import build_parser

    assert flag in build_parser().format_help()


@pytest.mark.parametrize(
    ("port", "reason"), [("70000", "not between 1 and 65535"), ("x", "invalid port 'x'")]
)
def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(port: str, reason: str) -> None:
    result = run(
        "--http", "--port", port, env={"TROVE_API_KEY": "trove-sk-x", "TROVE_NAMESPACE": "a"}
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
