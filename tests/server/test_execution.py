"""``execution.ExecRunner`` without a sandbox: how a command reaches the shell."""

from __future__ import annotations

from pathlib import Path

from trove_server.execution import ExecRunner
from trove_server.sandbox import ARGV_COMMAND_MAX, probe_sandbox
from trove_server.settings import Settings


def _runner(tmp_path: Path) -> tuple[ExecRunner, Path]:
    settings = Settings(data_dir=tmp_path / "data", sandbox="none")
    settings.run_dir.mkdir(parents=True)
    root = tmp_path / "ns"
    (root / "workspace").mkdir(parents=True)
    return ExecRunner(settings, probe_sandbox(settings)), root


async def test_without_a_sandbox_a_command_over_the_argument_limit_runs(tmp_path):
    runner, root = _runner(tmp_path)
    padding = "# " + "p" * (2 * ARGV_COMMAND_MAX) + "\n"
    result = await runner.run(root, "ns", padding + "echo ran; exit 4", stdin=None, timeout=30)
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"ran\n", b"")


async def test_a_short_command_is_still_an_argument_of_bash_c(tmp_path):
    runner, root = _runner(tmp_path)
    result = await runner.run(root, "ns", 'echo "$0"', stdin=None, timeout=30)
    assert result.stdout.strip().endswith(b"bash")
