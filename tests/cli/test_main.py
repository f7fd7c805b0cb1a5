"""The entry point: the fast paths, the lazy command table, the one error boundary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from trove_cli.app import App
from trove_cli.main import COMMANDS, version
from trove_cli.root import TroveGroup, cli

ROOT = Path(__file__).resolve().parents[2]
# Packages `trove --help` must not load (each costs tens of milliseconds or more), and the
# heavy parts of our own packages (their light option/config modules are fine).
HEAVY_PACKAGES = ["httpx", "trove_sdk", "rich", "asyncio", "uvicorn", "starlette", "mcp"]
HEAVY_MODULES = ["trove_server.app", "trove_webhooks.app", "trove_mcp.server"]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def walk(group: click.Group, ctx: click.Context, path: list[str]) -> list[list[str]]:
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        paths.append([*path, name])
        if isinstance(command, click.Group):
            paths += walk(command, click.Context(command, parent=ctx), [*path, name])
    return paths


def test_version_is_answered_without_importing_click() -> None:
    result = run_python(
        "import sys; from trove_cli.main import main; main(['--version']);"
        "print(sorted(m for m in ('click', 'trove_sdk', 'httpx') if m in sys.modules))"
    )
    assert result.stdout.splitlines() == [f"trove, version {version()}", "[]"]


def test_the_version_is_the_kits_version() -> None:
    from trove_sdk import __version__

    assert version() == __version__


def test_help_imports_no_heavy_module() -> None:
    result = run_python(
        "import sys, json; from trove_cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"loaded = {{m.split('.')[0] for m in sys.modules}} | set(sys.modules)\n"
        f"print(json.dumps(sorted(loaded & set({HEAVY_PACKAGES + HEAVY_MODULES!r}))))"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_installed_executable_prints_the_version() -> None:
    trove = Path(sys.executable).with_name("trove")
    result = subprocess.run([str(trove), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == f"trove, version {version()}\n"


def test_without_click_the_entry_point_prints_the_install_hint() -> None:
    result = run_python(
        "import sys; sys.modules['click'] = None\nfrom trove_cli.main import main\nmain(['ls'])"
    )
    assert result.returncode == 1
    assert "pip install 'trove-sdk[cli]'" in result.stderr


def test_every_command_in_the_table_resolves() -> None:
    ctx = click.Context(cli)
    missing = [name for name in COMMANDS if cli.get_command(ctx, name) is None]
    # Lines other engineers add before their module exists are hidden, not fatal.
    assert set(missing) <= {"server", "dev", "mcp"}


@pytest.mark.parametrize("path", walk(cli, click.Context(cli), []), ids=" ".join)
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 2
    assert "No such command 'sync'" in result.stderr


def boundary(error: BaseException) -> TroveGroup:
    @click.group(cls=TroveGroup)
    @click.option("--debug", is_flag=True)
    @click.pass_context
    def root(ctx: click.Context, debug: bool) -> None:
        ctx.obj = App(debug=debug)

    @root.command()
    def boom() -> None:
        raise error

    return root


def test_ctrl_c_exits_130_with_a_bare_newline() -> None:
    result = CliRunner().invoke(boundary(KeyboardInterrupt()), ["boom"])
    assert result.exit_code == 130
    assert result.stderr == "\n"


def test_unexpected_errors_exit_1_with_one_line() -> None:
    result = CliRunner().invoke(boundary(RuntimeError("bug")), ["boom"])
    assert result.exit_code == 1
    assert result.stderr == "error: RuntimeError: bug\n"


def test_debug_lets_unexpected_errors_through() -> None:
    result = CliRunner().invoke(boundary(RuntimeError("bug")), ["--debug", "boom"])
    assert isinstance(result.exception, RuntimeError)


def test_debug_keeps_the_exit_code_of_an_expected_failure() -> None:
    from trove_sdk import TroveAuthError

    result = CliRunner().invoke(
        boundary(TroveAuthError("Invalid API key", 401)), ["--debug", "boom"]
    )
    assert result.exit_code == 2
    assert result.stderr == "error: HTTP 401 — Invalid API key\n"


def test_completion_scripts_are_clicks_own(trove_home: str) -> None:
    result = CliRunner().invoke(cli, ["completion", "bash"])
    assert result.exit_code == 0
    assert "_TROVE_COMPLETE=bash_complete" in result.stdout


def test_a_missing_profile_exits_3_with_the_hint(trove_home: str) -> None:
    result = CliRunner().invoke(cli, ["--profile", "nope", "ls"])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no profile named 'nope'")
    assert "trove login" in result.stderr
