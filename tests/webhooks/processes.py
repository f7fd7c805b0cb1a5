"""Receiver and worker processes for tests: started like the deploy files start them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.webhooks.conftest import SECRET, free_port
from trove_webhooks.config import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TROVE_WEBHOOK", "PORT", "HOST", "WORKERS"))
    }
    env.update({"TROVE_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


class Process:
    """A child process with its output in a file (never a pipe that could fill and block)."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        log.close()
        return self

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup, no release of anything held."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.terminate(10)
        self.kill()


class ReceiverProcess(Process):
    """``python -m trove_webhooks`` on a free port."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        router: str | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        argv = [sys.executable, "-m", "trove_webhooks"] + ([router] if router else [])
        super().__init__(argv, {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def deliveries(self) -> str:
        """Where deliveries go: the receiver's default path."""
        return self.url + DEFAULT_PATH

    def start(self) -> ReceiverProcess:
        super().start()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"receiver exited {self.proc.returncode}:\n{self.output}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"receiver not ready after {timeout}s:\n{self.output}")
