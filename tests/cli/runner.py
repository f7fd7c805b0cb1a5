"""Running ``trove`` in tests: in-process through click's runner, or the installed executable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from trove_cli.root import cli

TROVE = str(Path(sys.executable).with_name("trove"))


def invoke(
    *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> Result:
    """``trove ARGS`` in-process; ``result.stdout`` and ``result.stderr`` are kept apart."""
    return CliRunner().invoke(cli, list(args), input=input, env=env, prog_name="trove")


def run_trove(
    *args: str, input: str | bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """The installed ``trove`` executable in a subprocess (the environment as it is)."""
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run(
        [TROVE, *args],
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def json_out(result: Result) -> Any:
    """The JSON a successful command printed on stdout."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def json_lines(result: Result) -> list[Any]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
