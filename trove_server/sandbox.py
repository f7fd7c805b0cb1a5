"""How a command is started: under bubblewrap when it works, otherwise (loudly) without.

Under ``bwrap`` each command gets new pid, ipc, uts, mount (and, with ``exec_network=none``,
network) namespaces; the system directories read-only; a private ``/tmp``; ``/proc`` of its
own pid namespace; and only its namespace root, read-write, at ``/trove`` (cwd, ``HOME``).
When the command's shell exits, the pid namespace ends and every process left in it dies.

Resource limits are set inside the sandbox by a prelude that bash runs before the command
(``BASH_ENV``): file size, address space, core dumps, and the number of processes. The
process limit only bites for a non-root user, so:

* a server running as a normal user runs ``bwrap`` with a user namespace of its own (the
  limit then counts only that command's processes);
* a server running as root runs ``bwrap`` without one, drops every capability but
  ``setuid``/``setgid``, and ``setpriv`` switches to ``sandbox_uid`` before bash starts —
  files the command writes belong to that user, and the server gives its own writes to it too.

The same prelude sources ``workspace/.trove/init.sh`` (errors go to stderr, the command still
runs; an ``exit`` there ends the shell first) and unsets ``BASH_ENV`` so scripts the command
starts do not run it again.

A command is normally ``bash -c <command>``. Linux refuses any single exec argument longer than
128 KiB (``E2BIG``), and agents send big heredocs, so a longer command is written to a sealed
in-memory file that the shell inherits and runs as its script (``bash /dev/fd/N``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from trove_server.paths import Owner
from trove_server.settings import Settings

__all__ = ["Launch", "Sandbox", "SandboxUnavailable", "probe_sandbox"]

log = logging.getLogger("trove_server.sandbox")

MOUNT_POINT = "/trove"
PRELUDE_IN_SANDBOX = "/.trove-prelude.sh"  # at the root: bwrap makes new parents 0700
_SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHM_MB = 64
# Above this many bytes a command goes to the shell as a script file, not an argument: the
# kernel's limit for one argument (MAX_ARG_STRLEN) is 128 KiB.
ARGV_COMMAND_MAX = 64 * 1024


class SandboxUnavailable(RuntimeError):
    """bubblewrap was required but does not work here (the message says why)."""


@dataclass(frozen=True)
class Launch:
    """Everything ``subprocess.Popen`` needs for one command.

    ``pass_fds`` are descriptors the command inherits (a long command's script); they belong
    to the launch, and ``close()`` releases them once the process started or failed to.
    """

    argv: list[str]
    env: dict[str, str]
    cwd: str
    pass_fds: tuple[int, ...] = ()

    def close(self) -> None:
        for fd in self.pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _shell(command: str) -> tuple[list[str], tuple[int, ...]]:
    """bash's arguments for ``command``, and the descriptors they refer to."""
    data = command.encode("utf-8")
    if len(data) <= ARGV_COMMAND_MAX:
        return ["-c", command], ()
    fd = _script_file(data)
    return [f"/dev/fd/{fd}"], (fd,)


def _script_file(data: bytes) -> int:
    """An unlinked file holding ``data``, sealed read-only where the OS can (the command
    inherits it: it may read its own text, never change it)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("trove-command", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    else:  # pragma: no cover - not Linux
        fd, name = tempfile.mkstemp(prefix="trove-command-")
        os.unlink(name)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
        if hasattr(fcntl, "F_ADD_SEALS"):
            seals = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True)
class Sandbox:
    """The isolation in force and how to build a command line for it."""

    isolation: str  # "bwrap" | "none"
    settings: Settings
    prelude: Path
    bwrap: str | None = None
    privileged: bool = False  # root: no user namespace, setpriv to sandbox_uid
    setpriv: str | None = None
    features: frozenset[str] = frozenset()
    reason: str = ""  # why there is no sandbox

    @property
    def owner(self) -> Owner:
        """Who must own files the server writes, so commands can change them."""
        if self.isolation == "bwrap" and self.privileged:
            return (self.settings.sandbox_uid, self.settings.sandbox_uid)
        return None

    @property
    def limits_processes(self) -> bool:
        return self.isolation == "bwrap"

    def launch(self, ns_root: Path, namespace: str, command: str) -> Launch:
        """The command line for ``command``; the caller must ``close()`` the launch."""
        shell_args, pass_fds = _shell(command)
        if self.isolation == "none":
            env = {
                "PATH": os.environ.get("PATH", _PATH),
                "HOME": str(ns_root),
                "LANG": "C.UTF-8",
                "TERM": "dumb",
                "BASH_ENV": str(self.prelude),
                "TROVE_NAMESPACE": namespace,
            }
            return Launch([_bash(), *shell_args], env, str(ns_root), pass_fds)
        assert self.bwrap is not None
        argv = [self.bwrap, *self._bwrap_args(ns_root, namespace)]
        if self.privileged and self.setpriv:
            uid = str(self.settings.sandbox_uid)
            argv += [self.setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--"]
        argv += ["/bin/bash", *shell_args]
        return Launch(argv, {}, str(ns_root), pass_fds)

    def _bwrap_args(self, ns_root: Path, namespace: str) -> list[str]:
        s = self.settings
        args = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if s.exec_network == "none":
            args.append("--unshare-net")
        if self.privileged:
            args += ["--cap-drop", "ALL"]
            if self.setpriv:
                args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args.append("--unshare-user")
            if "--disable-userns" in self.features:
                args.append("--disable-userns")
        args += ["--die-with-parent", "--new-session", "--hostname", "trove"]
        for name in _SYSTEM_DIRS:
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        args += ["--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev"]
        # Private, size-capped, world-writable (sticky) scratch space: tmpfs lives in RAM.
        # (These paths are inside the sandbox, not the host's shared directories.)
        args += [*self._scratch(SHM_MB), "/dev/shm", "--remount-ro", "/dev"]  # noqa: S108
        args += [*self._scratch(s.exec_tmp_mb), "/tmp"]  # noqa: S108
        args += ["--ro-bind", str(self.prelude), PRELUDE_IN_SANDBOX]
        args += ["--bind", str(ns_root), MOUNT_POINT, "--chdir", MOUNT_POINT]
        # The root is a tmpfs bwrap made (in RAM, writable by a user-namespace sandbox):
        # nothing may be written there.
        args += ["--remount-ro", "/"]
        env = {
            "PATH": _PATH,
            "HOME": MOUNT_POINT,
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "TMPDIR": "/tmp",  # noqa: S108 — inside the sandbox
            "BASH_ENV": PRELUDE_IN_SANDBOX,
            "TROVE_NAMESPACE": namespace,
        }
        args.append("--clearenv")
        for key, value in env.items():
            args += ["--setenv", key, value]
        return args

    def _scratch(self, megabytes: int) -> list[str]:
        args = ["--perms", "1777"] if "--perms" in self.features else []
        if "--size" in self.features:
            args += ["--size", str(megabytes << 20)]
        return [*args, "--tmpfs"]

    def floor_argv(self, ns_root: Path) -> list[str]:
        """``bwrap <same flags> true``: the spawn cost the exec benchmark compares against."""
        if self.isolation == "none" or self.bwrap is None:
            return ["true"]
        return [self.bwrap, *self._bwrap_args(ns_root, "bench"), "/bin/true"]


def _bash() -> str:
    return shutil.which("bash") or "/bin/bash"


def write_prelude(settings: Settings, *, limit_processes: bool) -> Path:
    """The script bash runs before every command (see the module docstring)."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    path = settings.run_dir / "prelude.sh"
    lines = [
        "# Written by trove_server: resource limits, then the namespace's init.sh.",
        "unset BASH_ENV",
        f"ulimit -f {settings.exec_file_size_mb * 1024} || exit 125",
        f"ulimit -v {settings.exec_memory_mb * 1024} || exit 125",
        "ulimit -c 0",
    ]
    if limit_processes:
        lines.append(f"ulimit -u {settings.exec_processes} || exit 125")
    lines += [
        "if [ -f workspace/.trove/init.sh ]; then",
        "  . workspace/.trove/init.sh",
        "fi",
        "",
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _features(bwrap: str) -> frozenset[str]:
    try:
        text = subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(word for word in ("--disable-userns", "--size", "--perms") if word in text)


def probe_sandbox(settings: Settings) -> Sandbox:
    """Decide the isolation: try the exact bwrap command line with ``true``.

    Raises ``SandboxUnavailable`` when bubblewrap is required (``require_sandbox``,
    ``sandbox=bwrap``, or ``exec_network=none``, which only the sandbox can enforce) but
    unusable.
    """
    none = Sandbox("none", settings, write_prelude(settings, limit_processes=False))
    if settings.sandbox == "none":
        return dataclasses.replace(none, reason="disabled by configuration (sandbox=none)")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        reason = "bubblewrap (bwrap) is not installed"
        if settings.require_bwrap:
            raise _refusal(settings, reason, "install it (apt install bubblewrap)")
        return dataclasses.replace(none, reason=reason)
    prelude = write_prelude(settings, limit_processes=True)
    privileged = os.geteuid() == 0
    setpriv = shutil.which("setpriv") if privileged else None
    if privileged and setpriv is None:
        log.warning(
            "running as root without setpriv (util-linux): commands run as root inside the "
            "sandbox and the process limit cannot be enforced"
        )
    candidate = Sandbox(
        "bwrap",
        settings,
        prelude,
        bwrap=bwrap,
        privileged=privileged,
        setpriv=setpriv,
        features=_features(bwrap),
    )
    error = _try(candidate, settings)
    if error is None:
        return candidate
    reason = f"bubblewrap does not work here: {error}"
    if settings.require_bwrap:
        raise _refusal(settings, reason, "fix that")
    return dataclasses.replace(none, reason=reason)


def _refusal(settings: Settings, reason: str, fix: str) -> SandboxUnavailable:
    """Why the server will not start without the sandbox, and what to do about it."""
    if settings.require_sandbox or settings.sandbox == "bwrap":
        return SandboxUnavailable(f"{reason}; {fix}")
    # Only exec_network=none asked for the sandbox: without it commands keep the network.
    return SandboxUnavailable(
        "--exec-network none needs the bubblewrap sandbox (without it commands would still "
        f"reach the network), but {reason}; {fix}, or drop --exec-network none"
    )


def _try(candidate: Sandbox, settings: Settings) -> str | None:
    probe_root = settings.run_dir / "probe"
    (probe_root / "workspace").mkdir(parents=True, exist_ok=True)
    owner = candidate.owner
    if owner is not None:
        for path in (probe_root, probe_root / "workspace"):
            os.chown(path, *owner)
    launch = candidate.launch(probe_root, "probe", "touch workspace/.probe && echo ok")
    try:
        result = subprocess.run(
            launch.argv,
            env=launch.env,
            cwd=launch.cwd,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if result.returncode != 0 or result.stdout.strip() != "ok":
        return (result.stderr.strip() or f"exit status {result.returncode}")[:500]
    return None
