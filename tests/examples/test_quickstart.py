"""The README's first command, run as a newcomer would: a copy of the repository, no venv yet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _copy_checkout(dest: Path) -> None:
    """The files a fresh clone would have (tracked and new, never .venv or caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.mark.slow
def test_dev_py_demo_sets_up_runs_the_stack_and_prints_a_good_summary(tmp_path: Path) -> None:
    checkout = tmp_path / "trove-kit"
    _copy_checkout(checkout)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TROVE_", "VIRTUAL_ENV"))}
    env["TROVE_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "dev.py", "demo"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr[-3000:]}"
    assert (checkout / ".venv").is_dir()
    assert "Starting the local Trove" in out
    assert "✓ verified  snapshot.restored" in out
    summary = out.split("● Summary")[1]
    sent = int(summary.split("events sent by Trove")[1].split()[0])
    delivered = int(summary.split("delivered and verified")[1].split()[0])
    duplicates = int(summary.split("duplicates absorbed")[1].split()[0])
    assert sent >= 9 and delivered == sent
    assert duplicates == 2
    assert "rejected with HTTP 400" in summary
    assert "result                      OK" in summary
    # It stopped what it started: nothing answers on the server's port any more.
    assert "Stopping." in out
