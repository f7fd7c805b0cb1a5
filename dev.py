#!/usr/bin/env python3
"""Project tasks with only Python and git: ``python3 dev.py demo`` / ``python3 dev.py test``.

Both create ``.venv`` on first use and (re)install the kit into it whenever ``pyproject.toml``
changed, so they work the same on a fresh clone, on a developer's machine and in CI.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(*args: str | os.PathLike[str], **kwargs: object) -> None:
    print("+", " ".join(str(a) for a in args), file=sys.stderr, flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create the venv and install ``.[extras]`` unless this exact pyproject is installed."""
    if sys.version_info < (3, 10):  # noqa: UP036 — dev.py runs under any system python3
        raise SystemExit("the Trove kit needs Python 3.10 or newer")
    if not PYTHON.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    stamp.write_text(digest)


def test(args: list[str]) -> None:
    """Lint, type-check and run the whole suite (the command .ci/run runs)."""
    ensure_venv("dev")
    _run(PYTHON, "-m", "ruff", "check", ".")
    _run(PYTHON, "-m", "ruff", "format", "--check", ".")
    _run(PYTHON, "-m", "mypy")
    # Exit code 5 ("no tests collected") must fail too: pytest already returns it non-zero.
    _run(PYTHON, "-m", "pytest", *args)


def demo(args: list[str]) -> None:
    """Start the local stack and run the quickstart agent session against it."""
    ensure_venv("all")
    command = [str(PYTHON), str(ROOT / "examples" / "quickstart.py"), *args]
    if os.name == "posix":
        # Become the quickstart rather than wait on it: a Ctrl-C then reaches it alone, and
        # its cleanup (receiver, webhook, server) runs to the end instead of being cut short
        # by subprocess.run killing the child a quarter-second after the interrupt.
        print("+", " ".join(command), file=sys.stderr, flush=True)
        os.chdir(ROOT)
        os.execv(command[0], command)  # noqa: S606 — our own venv interpreter, no shell
    _run(*command)


TASKS = {"test": test, "demo": demo}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        names = " | ".join(TASKS)
        raise SystemExit(f"usage: python3 dev.py {{{names}}} [args...]")
    TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
