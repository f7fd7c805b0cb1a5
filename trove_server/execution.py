"""Running one command: spawn (``sandbox.py``), feed stdin, capture capped output, enforce the
wall clock, and make sure nothing it started outlives the call.

Everything here is asyncio subprocess I/O, so the event loop keeps serving while commands run;
``exec_concurrency`` commands run at once and the rest wait their turn. On timeout, on a disk
that is about to fill up, or when the server shuts down, the whole process tree is killed: under
bubblewrap killing ``bwrap`` ends the command's pid namespace; without it the command's
process group is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from trove_server.sandbox import Sandbox
from trove_server.settings import Settings

__all__ = ["CommandResult", "ExecRunner"]

_READ_CHUNK = 1 << 16
_DISK_CHECK_SECONDS = 0.5
_PIPE_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    duration_ms: int
    timed_out: bool = False
    killed: str | None = None  # "shutdown" | "disk" when the server ended it


def decode_output(data: bytes, truncated: bool) -> str:
    """Text for JSON; a multi-byte character cut by the cap is dropped, not mangled."""
    if truncated:
        for cut in range(1, 4):
            if len(data) < cut:
                break
            lead = data[-cut]
            if lead & 0xC0 == 0xC0:  # a lead byte whose sequence the cap cut short
                need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
                if need > cut:
                    data = data[:-cut]
                break
            if lead & 0xC0 != 0x80:
                break
    return data.decode("utf-8", "replace")


async def _drain(stream: asyncio.StreamReader | None, cap: int) -> tuple[bytes, bool]:
    """Read to EOF keeping the first ``cap`` bytes (the rest is read and dropped, so a
    chatty command is never blocked on a full pipe)."""
    if stream is None:
        return b"", False
    kept = bytearray()
    truncated = False
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            return bytes(kept), truncated
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True


async def _feed(stream: asyncio.StreamWriter | None, data: bytes | None) -> None:
    if stream is None:
        return
    try:
        if data:
            stream.write(data)
            await stream.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the command did not read its input; that is its business
    finally:
        with contextlib.suppress(OSError):
            stream.close()


class ExecRunner:
    """Runs commands under the configured isolation; tracks them to kill on shutdown."""

    def __init__(self, settings: Settings, sandbox: Sandbox) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self._slots = asyncio.Semaphore(settings.exec_concurrency)
        self._running: dict[asyncio.subprocess.Process, list[str]] = {}
        self._stopping = False

    @property
    def running(self) -> int:
        return len(self._running)

    def _kill(self, process: asyncio.subprocess.Process) -> None:
        """Kill a command that is still running (not yet reaped, so its pid is its own)."""
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # start_new_session made the child a group leader: the group is the command's
            # tree without a sandbox, and both bwrap processes (whose death ends the pid
            # namespace) with one.
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()

    def kill_all(self) -> None:
        """Server shutdown: end every running command now."""
        self._stopping = True
        for process, reason in list(self._running.items()):
            reason.append("shutdown")
            self._kill(process)

    def _disk_low(self) -> bool:
        try:
            info = os.statvfs(self.settings.data_dir)
        except OSError:
            return False
        return info.f_bavail * info.f_frsize < self.settings.exec_min_free_mb << 20

    async def run(
        self,
        ns_root: Path,
        namespace: str,
        command: str,
        *,
        stdin: bytes | None,
        timeout: float,
    ) -> CommandResult:
        async with self._slots:
            return await self._run(ns_root, namespace, command, stdin, timeout)

    async def _run(
        self, ns_root: Path, namespace: str, command: str, stdin: bytes | None, timeout: float
    ) -> CommandResult:
        if self._stopping:
            return CommandResult(137, b"", b"", False, False, 0, killed="shutdown")
        launch = self.sandbox.launch(ns_root, namespace, command)
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *launch.argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=launch.cwd,
            env=launch.env,
            start_new_session=True,
        )
        reasons: list[str] = []
        self._running[process] = reasons
        cap = self.settings.exec_output_cap
        readers = asyncio.gather(
            _drain(process.stdout, cap),
            _drain(process.stderr, cap),
            _feed(process.stdin, stdin),
        )
        timed_out = False
        exited = asyncio.ensure_future(process.wait())
        try:
            deadline = started + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    self._kill(process)
                    break
                done, _ = await asyncio.wait({exited}, timeout=min(remaining, _DISK_CHECK_SECONDS))
                if done:
                    break
                if self._disk_low():
                    reasons.append("disk")
                    self._kill(process)
                    break
            await exited
            if self.sandbox.isolation == "none":
                # What the command left running in the background goes now (with a sandbox
                # the pid namespace ended with the shell). The group outlives its leader
                # while it has members, so its id cannot have been reused.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            try:
                (out, out_cut), (err, err_cut), _ = await asyncio.wait_for(
                    asyncio.shield(readers), _PIPE_GRACE_SECONDS
                )
            except asyncio.TimeoutError:
                # Something outside our reach still holds the pipes (a daemon that left
                # the process group, without a sandbox): stop waiting for it.
                readers.cancel()
                out, out_cut, err, err_cut = b"", False, b"", False
        except BaseException:
            self._kill(process)
            readers.cancel()
            exited.cancel()
            raise
        finally:
            self._running.pop(process, None)
        duration = int((time.monotonic() - started) * 1000)
        code = process.returncode if process.returncode is not None else 137
        if code < 0:
            code = 128 - code
        killed = reasons[0] if reasons else None
        if timed_out:
            code = 124
        if killed == "disk":
            err += b"\ntrove: command killed: the server's disk is nearly full\n"
        return CommandResult(
            exit_code=code,
            stdout=out,
            stderr=err,
            stdout_truncated=out_cut,
            stderr_truncated=err_cut,
            duration_ms=duration,
            timed_out=timed_out,
            killed=killed,
        )
