"""Snapshots (D11): a tar.gz of ``workspace/``, restored by wiping it and extracting safely.

Archiving walks the tree with directory descriptors and ``O_NOFOLLOW`` like every other file
operation, so a link a command planted (``ln -s / workspace/root``) is archived as a link —
and only when it points inside ``workspace/`` — never followed. Extraction accepts regular
files, directories and such inside-pointing links; each name goes through ``paths.parse``
(no absolute paths, no ``..``) and is created below an open directory descriptor, never
through a link. Setuid/setgid bits are dropped.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import posixpath
import stat
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trove_server.clock import iso
from trove_server.errors import ApiError
from trove_server.paths import Owner, RelPath, fs_errors, open_dir, parse, walk
from trove_server.storage import NamespaceDir

if TYPE_CHECKING:
    from trove_server.state import ServerState

__all__ = ["archive", "expire", "restore", "snapshot_object"]

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


def snapshot_object(row: Any) -> dict[str, Any]:
    return {
        "snapshot_id": row["id"],
        "namespace": row["namespace"],
        "label": row["label"],
        "size_bytes": row["size_bytes"],
        "created_at": iso(row["created_ms"]),
    }


def _inside(link_dir: str, target: str) -> bool:
    """Whether a relative link target, resolved from ``link_dir``, stays in workspace/."""
    if not target or target.startswith("/"):
        return False
    resolved = posixpath.normpath(posixpath.join(link_dir, target))
    return resolved != ".." and not resolved.startswith("../")


class _Exactly(io.RawIOBase):
    """Exactly ``size`` bytes of a file that a command may be changing: padded with zeros if
    it shrank, cut if it grew, so the tar stays well-formed."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        want = min(len(buffer), self._left)
        data = os.read(self._fd, want) or bytes(want)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _add_tree(tar: tarfile.TarFile, ws_fd: int) -> int:
    files = 0
    for leaving, entry in walk(ws_fd, sort=True):
        if leaving:
            continue
        info = entry.info
        member = tarfile.TarInfo(entry.rel)
        member.mtime = int(info.st_mtime)
        member.mode = stat.S_IMODE(info.st_mode) & 0o777
        if entry.is_dir:
            member.type = tarfile.DIRTYPE
            tar.addfile(member)
        elif stat.S_ISREG(info.st_mode):
            try:
                fd = os.open(entry.name, _FILE_FLAGS, dir_fd=entry.dir_fd)
            except OSError:
                continue  # became a link or vanished since the listing
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode):
                    continue
                member.size = opened.st_size
                tar.addfile(member, io.BufferedReader(_Exactly(fd, opened.st_size), _CHUNK))
                files += 1
            finally:
                os.close(fd)
        elif stat.S_ISLNK(info.st_mode):
            target = os.readlink(entry.name, dir_fd=entry.dir_fd)
            if _inside(posixpath.dirname(entry.rel), target):
                member.type = tarfile.SYMTYPE
                member.linkname = target
                tar.addfile(member)
    return files


def archive(namespace: NamespaceDir, dest: Path) -> tuple[int, int]:
    """Write the archive of ``workspace/`` to ``dest``; returns (files, archive bytes)."""
    files = 0
    with (
        open(dest, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
        namespace.workspace() as ws_fd,
    ):
        if ws_fd is not None:
            files = _add_tree(tar, ws_fd)
    return files, dest.stat().st_size


def _extract_file(
    tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int, name: str, owner: Owner
) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=parent)
    fd = os.open(
        name,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o600,
        dir_fd=parent,
    )
    try:
        source = tar.extractfile(member)
        if source is not None:
            while chunk := source.read(_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        os.fchmod(fd, member.mode & 0o777)
        if owner is not None:
            os.fchown(fd, *owner)
        os.utime(fd, (member.mtime, member.mtime))
    finally:
        os.close(fd)


class _OpenDirs:
    """The directories along the last member's path, kept open: an archive lists a
    directory's contents right after it, so each member opens only what the previous one did
    not (a deep tree costs one open per level, not one per level per member)."""

    def __init__(self, ws_fd: int, owner: Owner) -> None:
        self._ws_fd = ws_fd
        self._owner = owner
        self._chain: list[tuple[str, int]] = []

    def get(self, parts: tuple[str, ...]) -> int:
        """The directory ``parts`` (created as needed; owned by this cache, not the caller)."""
        common = 0
        while (
            common < min(len(parts), len(self._chain)) and self._chain[common][0] == parts[common]
        ):
            common += 1
        self._drop(common)
        fd = self._chain[-1][1] if self._chain else self._ws_fd
        for index in range(common, len(parts)):
            fd = open_dir(
                fd,
                parts[index : index + 1],
                create=True,
                owner=self._owner,
                base=RelPath(parts[:index]),
            )
            self._chain.append((parts[index], fd))
        return fd

    def _drop(self, keep: int) -> None:
        for _, fd in self._chain[keep:]:
            os.close(fd)
        del self._chain[keep:]

    def close(self) -> None:
        self._drop(0)


def restore(namespace: NamespaceDir, source: Path) -> int:
    """Wipe ``workspace/`` and extract the archive into it; returns files restored."""
    with fs_errors(RelPath(())):
        namespace.wipe()
    namespace.ensure()
    restored = 0
    with (
        tarfile.open(source, mode="r:gz") as tar,
        namespace.workspace() as ws_fd,
    ):
        assert ws_fd is not None
        dirs = _OpenDirs(ws_fd, namespace.owner)
        with contextlib.closing(dirs):
            for member in tar:
                try:
                    path = parse(member.name, where="archive member", archived=True)
                except ApiError:
                    continue
                if not path.parts:
                    continue
                try:
                    if member.isdir():
                        dirs.get(path.parts)
                        continue
                    parent = dirs.get(path.parts[:-1])
                except ApiError:
                    continue  # a parent is a file or a link in this archive: skip the member
                try:
                    if member.isreg():
                        _extract_file(tar, member, parent, path.name, namespace.owner)
                        restored += 1
                    elif member.issym() and _inside("/".join(path.parts[:-1]), member.linkname):
                        with contextlib.suppress(FileExistsError):
                            os.symlink(member.linkname, path.name, dir_fd=parent)
                        if namespace.owner is not None:
                            os.chown(
                                path.name, *namespace.owner, dir_fd=parent, follow_symlinks=False
                            )
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise
    return restored


async def expire(server: ServerState, cutoff_ms: int) -> int:
    """Delete snapshots older than the retention; each emits ``snapshot.deleted``."""
    rows = server.db.all(
        "SELECT id, workspace_id, namespace FROM snapshots WHERE created_ms < ?", (cutoff_ms,)
    )
    for row in rows:
        delete_archive(server, row["workspace_id"], row["id"])
        with server.db.transaction() as conn:
            conn.execute("DELETE FROM snapshots WHERE id = ?", (row["id"],))
        server.events.emit(
            row["workspace_id"],
            "snapshot.deleted",
            {"snapshot_id": row["id"]},
            namespace=row["namespace"],
        )
    return len(rows)


def archive_path(server: ServerState, workspace_id: str, snapshot_id: str) -> Path:
    return server.settings.snapshots_dir / workspace_id / f"{snapshot_id}.tar.gz"


def delete_archive(server: ServerState, workspace_id: str, snapshot_id: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        archive_path(server, workspace_id, snapshot_id).unlink()
