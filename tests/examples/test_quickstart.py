"""The README's first command, run as a newcomer would: a copy of the repository, no venv yet."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
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


def _newcomer_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TROVE_", "VIRTUAL_ENV"))}
    env["TROVE_HOME"] = str(home)
    return env


class Terminal:
    """A command started the way a shell starts a foreground job: its own process group,
    output read as it comes, and Ctrl-C sent to the whole group."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self.out.extend, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self.err.extend, args=(self.process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stdout:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"never printed {text!r}:\n{self.stdout}\n{''.join(self.err)[-3000:]}"
                )
            time.sleep(0.1)

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(f"did not finish:\n{self.stdout}") from None
        for reader in self._readers:
            reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


def _server_port(out: str) -> int:
    found = re.search(r"server\s+http://127\.0\.0\.1:(\d+)", out)
    assert found, out
    return int(found.group(1))


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _check_summary(out: str) -> None:
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


@pytest.mark.slow
def test_dev_py_demo_sets_up_runs_the_stack_and_cleans_up_on_ctrl_c(tmp_path: Path) -> None:
    checkout = tmp_path / "trove-kit"
    _copy_checkout(checkout)
    demo = Terminal(
        [sys.executable, "dev.py", "demo", "--keep-running"],
        checkout,
        _newcomer_env(tmp_path / "home"),
    )
    demo.wait_for("Still running (Ctrl-C to stop)", timeout=900)
    out = demo.stdout
    assert (checkout / ".venv").is_dir()
    _check_summary(out)
    isolation = "isolation: none" if shutil.which("bwrap") is None else "isolation: bwrap"
    assert isolation in out
    port = _server_port(out)
    assert _answers(port), "--keep-running left the server up"

    demo.ctrl_c()
    assert demo.finish(60) == 130
    out = demo.stdout
    assert "Interrupted: cleaning up" in out
    assert "removed the webhook subscription" in out
    assert "stopped the local Trove" in out
    assert not _answers(port)


def _path_without_bwrap(tmp_path: Path) -> str:
    """$PATH as on a machine where bubblewrap was never installed (everything else kept)."""
    shadow = tmp_path / "bin-without-bwrap"
    shadow.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            link = shadow / entry.name
            if entry.name != "bwrap" and not link.exists():
                link.symlink_to(entry.path)
    return f"{Path(sys.executable).parent}{os.pathsep}{shadow}"


def test_without_bubblewrap_the_quickstart_runs_says_so_and_stops_what_it_started(
    tmp_path: Path,
) -> None:
    env = _newcomer_env(tmp_path / "home")
    env["PATH"] = _path_without_bwrap(tmp_path)
    run = Terminal([sys.executable, str(ROOT / "examples" / "quickstart.py")], ROOT, env)
    code = run.finish(300)
    out = run.stdout
    assert code == 0, f"{out}\n{''.join(run.err)[-3000:]}"
    _check_summary(out)
    assert "bubblewrap (bwrap) is not installed" in out
    assert "isolation: none" in out
    assert "Stopping." in out and "stopped the local Trove" in out
    assert not _answers(_server_port(out))
