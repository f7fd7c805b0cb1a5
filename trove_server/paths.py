"""Namespace path safety: no request reads or writes outside its namespace's ``workspace/``.

Two layers. ``parse`` refuses what is never a path inside ``workspace/`` — ``..``, absolute
paths, ``~``, NUL bytes, backslashes, control characters, over-long names — with a 422 that
says which rule was broken. Then every file operation walks the parsed segments one directory
at a time with ``openat``-style calls (``dir_fd=`` and ``O_NOFOLLOW``), starting from a
descriptor of the namespace's ``workspace/`` directory. A symbolic link anywhere on the way —
including one a command created, such as ``ln -s / workspace/root``, or ``workspace/`` itself
replaced by a link — stops the walk with a 409 instead of being followed, and because each
step is relative to an already-open directory, swapping a directory for a link mid-request
cannot redirect it either. Files are opened with ``O_NONBLOCK`` (a FIFO cannot hang a
request) and must be regular files.

All functions here block; routes run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trove_server.errors import ApiError, Conflict, InsufficientStorage, NotFound, Unprocessable

__all__ = [
    "WORKSPACE",
    "AtomicFile",
    "Opened",
    "Owner",
    "RelPath",
    "TreeEntry",
    "fs_errors",
    "open_dir",
    "open_file",
    "parse",
    "remove_tree",
    "shown",
    "sorted_names",
    "walk",
]

WORKSPACE = "workspace"
MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255
Owner = (
    tuple[int, int] | None
)  # (uid, gid) given to new files when the sandbox runs as another user

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class RelPath:
    """A checked path inside ``workspace/`` (``parts`` empty = ``workspace/`` itself)."""

    parts: tuple[str, ...]

    @property
    def display(self) -> str:
        return f"{WORKSPACE}/" + "/".join(self.parts)

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def parent(self) -> RelPath:
        return RelPath(self.parts[:-1])

    def child(self, name: str) -> RelPath:
        return RelPath((*self.parts, name))


def parse(
    raw: Any, *, where: str = "path", listing: bool = False, archived: bool = False
) -> RelPath:
    """Check a client path. ``listing=True`` is the ``/v1/files*`` spelling, where
    ``workspace/x`` and ``x`` mean the same file; elsewhere paths are namespace-relative
    (CONTRACT §2.1).

    ``archived=True`` checks a name a snapshot recorded instead: anything a command could
    create is kept (control characters, backslashes, a leading ``~``, bytes that are not
    UTF-8, any depth) — restoring must not drop files — and only what would leave
    ``workspace/`` (absolute, ``..``) is refused.
    """
    if not isinstance(raw, str):
        raise Unprocessable(f"{where} must be a string")
    if "\x00" in raw:
        raise Unprocessable(f"{where} contains a NUL byte")
    if not archived:
        _check_spelling(raw, where)
    if raw.startswith("/"):
        raise Unprocessable(
            f"{where} {raw!r} is absolute; give a path inside workspace/ such as "
            "'workspace/notes.md'"
        )
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    for part in parts:
        if part == "..":
            raise Unprocessable(f"{where} {raw!r} contains '..'; paths cannot leave workspace/")
        if not archived and len(part.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise Unprocessable(
                f"{where} has a name longer than {MAX_SEGMENT_BYTES} bytes: {part[:40]!r}…"
            )
    if listing and parts and parts[0] == WORKSPACE:
        parts = parts[1:]
    return RelPath(tuple(parts))


def _check_spelling(raw: str, where: str) -> None:
    """What a client may not send, though a command could name a file so."""
    if "\\" in raw:
        raise Unprocessable(f"{where} contains a backslash; separate directories with '/'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise Unprocessable(f"{where} contains a control character")
    if raw.startswith("~"):
        raise Unprocessable(f"{where} {raw!r} starts with '~'; home directories are not expanded")
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise Unprocessable(f"{where} is not valid Unicode") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise Unprocessable(f"{where} is {len(encoded)} bytes long; the limit is {MAX_PATH_BYTES}")


def shown(name: str) -> str:
    """A name from the disk as the API shows it: bytes that are not UTF-8 (a command can
    create such names; Python reads them as surrogate escapes) become U+FFFD, so JSON, the
    event log and SQLite can carry it."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@contextlib.contextmanager
def fs_errors(path: RelPath) -> Iterator[None]:
    """Turn an ``OSError`` from a file operation into the API error a client can act on."""
    try:
        yield
    except OSError as exc:
        code = exc.errno
        if code == errno.ENOENT:
            raise NotFound(f"Path not found: {path.display}") from None
        if code in (errno.EACCES, errno.EPERM):
            raise Conflict(f"{path.display} is not accessible (permission denied)") from None
        if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise InsufficientStorage("not enough disk space on the server") from None
        if code == errno.ENAMETOOLONG:
            raise Unprocessable(f"{path.display}: a name is too long") from None
        if code == errno.ENOTEMPTY:
            raise Conflict(
                f"{path.display} changed while it was being removed (a command is writing "
                "to it); try again"
            ) from None
        if code in (errno.EISDIR, errno.EEXIST):
            raise Conflict(f"{path.display} is a directory") from None
        if code in (errno.ENOTDIR, errno.ELOOP, errno.ENXIO):
            raise Conflict(f"{path.display} is not a regular file or directory") from None
        raise


def _adopt(fd: int, owner: Owner) -> None:
    if owner is not None:
        os.fchown(fd, owner[0], owner[1])


def _explain(dir_fd: int, name: str, path: RelPath) -> ApiError:
    """Why ``name`` could not be opened as a directory."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return NotFound(f"Path not found: {path.display}")
    if stat.S_ISLNK(info.st_mode):
        return Conflict(f"{path.display} is a symbolic link; the files API does not follow links")
    return Conflict(f"{path.display} is a file, not a directory")


def open_dir(
    base_fd: int,
    parts: tuple[str, ...],
    *,
    create: bool = False,
    owner: Owner = None,
    base: RelPath = RelPath(()),
) -> int:
    """A descriptor of the directory ``parts`` below ``base_fd``, never through a link."""
    fd = os.dup(base_fd)
    try:
        for index, part in enumerate(parts):
            here = RelPath(base.parts + parts[: index + 1])
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise NotFound(f"Path not found: {here.display}") from None
                # suppress inside fs_errors: a concurrent request that created the directory
                # first is fine, and must not be translated into an error on the way out.
                with fs_errors(here), contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    raise _explain(fd, part, here) from None
                _adopt(next_fd, owner)
            except OSError as exc:
                if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                    raise _explain(fd, part, here) from None
                with fs_errors(here):
                    raise
            os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        os.close(fd)
        raise


@dataclass
class Opened:
    fd: int
    size: int
    mtime_ms: int


def open_file(ws_fd: int, path: RelPath) -> Opened:
    """Open a regular file for reading; 404, or 409 for a directory, link or device."""
    if not path.parts:
        raise Conflict(f"{path.display} is a directory")
    parent = open_dir(ws_fd, path.parts[:-1])
    try:
        try:
            fd = os.open(path.name, _FILE_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Conflict(
                    f"{path.display} is a symbolic link; the files API does not follow links"
                ) from None
            with fs_errors(path):
                raise
    finally:
        os.close(parent)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise Conflict(f"{path.display} is {kind}")
    return Opened(fd, info.st_size, info.st_mtime_ns // 1_000_000)


# At most this much per write(2). The kernel sizes a new file's page-cache folios by the
# write: 2 MiB calls and larger get 2 MiB folios, smaller ones do not (FileHugePages in
# /proc/meminfo). On our Firecracker VM those huge folios are slow to allocate (apparently
# memory the guest returned to the host): in bench/files.py the server spent ~200 ms of system
# time per 100 MiB with 4 MiB writes, ~90 ms with 256 KiB ones (the plain-HTTP baseline, 64 KiB
# writes: ~80 ms), and uploads went from 25-62% of that baseline to 81-104%. A 1 MiB cap did
# worse (70-86%); 400 calls instead of 25 per 100 MiB cost nothing measurable.
_WRITE_BYTES = 256 << 10
_IOV_MAX = 1024


def _groups(chunks: Sequence[bytes | memoryview]) -> Iterator[list[memoryview]]:
    """The chunks' bytes in order, cut into lists of at most ``_WRITE_BYTES`` bytes and
    ``_IOV_MAX`` pieces, one ``writev`` each."""
    group: list[memoryview] = []
    size = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            piece = view[: _WRITE_BYTES - size]
            view = view[len(piece) :]
            group.append(piece)
            size += len(piece)
            if size == _WRITE_BYTES or len(group) == _IOV_MAX:
                yield group
                group, size = [], 0
    if group:
        yield group


class AtomicFile:
    """A new file written to a private temp directory, then renamed into place, so readers
    see the old file or the new one, never half of one — and a failed upload leaves nothing."""

    def __init__(self, tmp_dir: Path) -> None:
        fd, name = tempfile.mkstemp(prefix="upload-", dir=tmp_dir)
        self.fd: int | None = fd
        self._name = os.path.basename(name)
        self._tmp_dir = tmp_dir
        self.size = 0
        os.fchmod(fd, 0o644)

    def write(self, data: bytes | memoryview) -> None:
        self.write_all([data])

    def write_all(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Write the chunks in order, at most ``_WRITE_BYTES`` per system call (``writev``)."""
        assert self.fd is not None
        for group in _groups(chunks):
            while group:
                written = os.writev(self.fd, group)
                self.size += written
                while written:
                    if written >= len(group[0]):
                        written -= len(group.pop(0))
                    else:
                        group[0] = group[0][written:]
                        written = 0

    def commit(self, ws_fd: int, path: RelPath, owner: Owner, *, fsync: bool = False) -> int:
        """Move into place (parents created); returns the size."""
        if not path.parts:
            raise Unprocessable("path must name a file inside workspace/")
        assert self.fd is not None
        with fs_errors(path):
            _adopt(self.fd, owner)
            if fsync:
                os.fsync(self.fd)
        parent = open_dir(ws_fd, path.parts[:-1], create=True, owner=owner)
        tmp_fd = os.open(self._tmp_dir, _DIR_FLAGS)
        try:
            with fs_errors(path):
                os.rename(self._name, path.name, src_dir_fd=tmp_fd, dst_dir_fd=parent)
        finally:
            os.close(tmp_fd)
            os.close(parent)
        os.close(self.fd)
        self.fd = None
        return self.size

    def abort(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp_dir / self._name)


def sorted_names(dir_fd: int) -> list[tuple[str, bool]]:
    """Directories first, then everything else, each alphabetical (links count as files)."""
    names: list[tuple[str, bool]] = []
    with os.scandir(dir_fd) as it:
        for entry in it:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            names.append((entry.name, is_dir))
    names.sort(key=lambda item: (not item[1], item[0]))
    return names


@dataclass(frozen=True)
class TreeEntry:
    """One entry met by ``walk``: ``name`` inside the open directory ``dir_fd`` (valid until
    the walk moves on), ``rel`` its path from the top, ``info`` its ``lstat``."""

    dir_fd: int
    name: str
    rel: str
    info: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.info.st_mode)


def walk(
    top_fd: int, *, sort: bool = False, strict: bool = False
) -> Generator[tuple[bool, TreeEntry], None, None]:
    """Every entry below ``top_fd``, depth first, never through a link.

    Yields ``(False, entry)`` for each entry before a directory's contents and
    ``(True, entry)`` for a directory after them (when it may be removed). A loop, not
    recursion, holding a descriptor or two per level of depth: a command can make trees
    deeper than Python's recursion limit and wider than the server's descriptor limit.
    Directories are read as the walk goes (a caller may stop early in a huge one), or whole
    and in name order with ``sort`` (also what a caller that removes entries needs). A
    directory that cannot be opened (replaced by a link since it was listed) is skipped, or
    with ``strict`` raises its ``OSError``.
    """
    fd = os.dup(top_fd)
    stack: list[tuple[int, str, Generator[str, None, None], TreeEntry | None]] = []
    try:
        stack.append((fd, "", _names(fd, sort), None))
        while stack:
            fd, prefix, names, this = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                names.close()
                os.close(fd)
                if this is not None:
                    yield True, this
                continue
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            entry = TreeEntry(fd, name, prefix + name, info)
            yield False, entry
            if entry.is_dir:
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    continue
                except OSError:
                    if strict:
                        raise
                    continue
                stack.append((child, entry.rel + "/", _names(child, sort), entry))
    finally:
        for fd, _, names, _ in reversed(stack):
            names.close()
            os.close(fd)


def _names(dir_fd: int, sort: bool) -> Generator[str, None, None]:
    if sort:
        with os.scandir(dir_fd) as it:
            listed = sorted(entry.name for entry in it)
        yield from listed
        return
    with os.scandir(dir_fd) as it:
        for entry in it:
            yield entry.name


def remove_tree(parent_fd: int, name: str) -> int:
    """Delete a directory tree without following links; returns how many files went."""
    removed = 0
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    try:
        for leaving, entry in walk(fd, sort=True, strict=True):
            if leaving:
                os.rmdir(entry.name, dir_fd=entry.dir_fd)
            elif not entry.is_dir:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.name, dir_fd=entry.dir_fd)
                    removed += 1
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)
    return removed
