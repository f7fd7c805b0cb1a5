"""Running one command: spawn (``sandbox.py``), feed stdin, capture capped output, enforce the
wall clock, and make sure nothing it started outlives the call.

The event loop never waits on a command: the child is started with ``subprocess.Popen`` in a
worker thread (``vfork``, much cheaper than forking the whole server as uvloop's spawn does),
its pipes are read and written with ``add_reader``/``add_writer``, and its exit is watched
through a pidfd — which becomes readable when the child exits but does not reap it, so its
process group can still be killed without any risk of hitting a recycled pid.
``exec_concurrency`` commands run at once and the rest wait their turn.

On timeout, on a disk about to fill up, when its namespace is deleted, or when the server shuts
down, the whole process tree is killed: under bubblewrap killing ``bwrap`` ends the command's
pid namespace; without it the command's process group is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from trove_server.sandbox import Launch, Sandbox
from trove_server.settings import Settings

__all__ = ["CommandResult", "ExecRunner", "decode_output"]

_READ_CHUNK = 1 << 16
_DISK_CHECK_SECONDS = 0.5
_PIPE_GRACE_SECONDS = 2.0
_STOP_WAIT_SECONDS = 5.0
# What the command's stderr gets when the server ended it for a reason of its own.
_KILL_NOTES = {
    "disk": b"\ntrove: command killed: the server's disk is nearly full\n",
    "namespace": b"\ntrove: command killed: its namespace was deleted\n",
}


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    duration_ms: int
    timed_out: bool = False
    killed: str | None = None  # "shutdown" | "disk" | "namespace" when the server ended it


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


class _Capture:
    """Reads a pipe to EOF keeping the first ``cap`` bytes; the rest is read and dropped, so a
    chatty command is never blocked on a full pipe."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, cap: int) -> None:
        self.kept = bytearray()
        self.truncated = False
        self.done = loop.create_future()
        self._loop, self._fd, self._cap = loop, fd, cap
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._fd, _READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        room = self._cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        if len(chunk) > room:
            self.truncated = True

    def close(self) -> None:
        if not self.done.done():
            self._loop.remove_reader(self._fd)
            self.done.set_result(None)


class _Feed:
    """Writes stdin without blocking, then closes it — the command sees EOF (one that never
    reads is fine)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pipe: IO[bytes], data: bytes) -> None:
        self._loop, self._pipe, self._fd = loop, pipe, pipe.fileno()
        self._view = memoryview(data)
        os.set_blocking(self._fd, False)
        self._active = True
        if self._view:
            loop.add_writer(self._fd, self._writable)
        else:
            self.close()

    def _writable(self) -> None:
        try:
            written = os.write(self._fd, self._view[:_READ_CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the command exited or closed its stdin
            written = len(self._view)
        self._view = self._view[written:]
        if not self._view:
            self.close()

    def close(self) -> None:
        if self._active:
            self._active = False
            self._loop.remove_writer(self._fd)
            with contextlib.suppress(OSError):
                self._pipe.close()


class _Child:
    """A started command: its process, pipes and an exit future that does not reap it."""

    def __init__(self, process: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.process = process
        self.exited: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(process.pid)
        except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
            threading.Thread(target=self._wait_in_thread, daemon=True).start()
        else:
            loop.add_reader(self._pidfd, self._mark_exited)

    def _mark_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def _wait_in_thread(self) -> None:
        # WNOWAIT: learn of the exit but leave the zombie, so its pid stays ours.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOWAIT)
        self._loop.call_soon_threadsafe(self._mark_exited)

    def kill_group(self) -> None:
        """SIGKILL the command's process group (safe until ``reap``)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def reap(self) -> int:
        self._mark_exited()
        return self.process.wait()


def _start(launch: Launch, with_stdin: bool) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            launch.argv,
            stdin=subprocess.PIPE if with_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=launch.cwd,
            env=launch.env,
            # Its own process group: the command's tree (no sandbox) or bwrap (sandbox) can be
            # killed as one, and a Ctrl-C in the server's terminal does not reach it first.
            start_new_session=True,
            close_fds=True,
            pass_fds=launch.pass_fds,
        )
    finally:
        launch.close()  # the child has its own copies now


class ExecRunner:
    """Runs commands under the configured isolation; tracks them to kill on shutdown."""

    def __init__(self, settings: Settings, sandbox: Sandbox) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self._slots = asyncio.Semaphore(settings.exec_concurrency)
        # Each running command: the namespace root it runs in, and why the server killed it.
        self._running: dict[_Child, tuple[Path, list[str]]] = {}
        self._stopping = False

    @property
    def running(self) -> int:
        return len(self._running)

    def kill_all(self) -> None:
        """Server shutdown: end every running command now."""
        self._stopping = True
        for child, (_, reasons) in list(self._running.items()):
            reasons.append("shutdown")
            child.kill_group()

    async def stop_commands_in(self, ns_root: Path) -> None:
        """Kill the commands running in a namespace (it is being deleted) and wait for them
        to end, so nothing writes into it while it is removed."""
        doomed = [child for child, (root, _) in self._running.items() if root == ns_root]
        for child in doomed:
            self._running[child][1].append("namespace")
            child.kill_group()
        if doomed:
            await asyncio.wait([child.exited for child in doomed], timeout=_STOP_WAIT_SECONDS)

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
            if self._stopping:
                return CommandResult(137, b"", b"", False, False, 0, killed="shutdown")
            launch = self.sandbox.launch(ns_root, namespace, command)
            return await self._run(launch, ns_root, stdin, timeout)

    async def _run(
        self, launch: Launch, ns_root: Path, stdin: bytes | None, timeout: float
    ) -> CommandResult:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        process = await asyncio.to_thread(_start, launch, stdin is not None)
        child = _Child(process, loop)
        reasons: list[str] = []
        self._running[child] = (ns_root, reasons)
        assert process.stdout is not None and process.stderr is not None
        cap = self.settings.exec_output_cap
        out = _Capture(loop, process.stdout.fileno(), cap)
        err = _Capture(loop, process.stderr.fileno(), cap)
        feed = _Feed(loop, process.stdin, stdin or b"") if process.stdin else None
        timed_out = False
        try:
            deadline = started + timeout
            while not child.exited.done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    child.kill_group()
                    break
                await asyncio.wait({child.exited}, timeout=min(remaining, _DISK_CHECK_SECONDS))
                if not child.exited.done() and self._disk_low():
                    reasons.append("disk")
                    child.kill_group()
                    break
            await child.exited
            if self.sandbox.isolation == "none":
                # What the command left running in the background goes now (with a sandbox
                # the pid namespace ended with the shell). Not reaped yet: the group id is
                # still this command's.
                child.kill_group()
            code = child.reap()
            # Under a sandbox the pipes close with the pid namespace. Something outside our
            # reach may still hold them without one (a daemon that left the process group).
            await asyncio.wait({out.done, err.done}, timeout=_PIPE_GRACE_SECONDS)
        finally:
            self._running.pop(child, None)
            if feed is not None:
                feed.close()
            out.close()
            err.close()
            if child.process.returncode is None:
                child.kill_group()
                await asyncio.to_thread(child.reap)
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe is not None and not pipe.closed:
                    with contextlib.suppress(OSError):
                        pipe.close()
        duration = int((time.monotonic() - started) * 1000)
        if code < 0:
            code = 128 - code
        if timed_out:
            code = 124
        killed = reasons[0] if reasons else None
        stderr = bytes(err.kept) + _KILL_NOTES.get(killed or "", b"")
        return CommandResult(
            exit_code=code,
            stdout=bytes(out.kept),
            stderr=stderr,
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
            duration_ms=duration,
            timed_out=timed_out,
            killed=killed,
        )
