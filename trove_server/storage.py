"""One namespace on disk: ``<root>/workspace/...``, and what the files API does with it.

Every operation goes through ``paths.py``'s descriptor walks, so none of them follows a link
or leaves ``workspace/``. All functions block; routes run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trove_server.clock import iso
from trove_server.errors import ApiError, Conflict, NotFound, Unprocessable
from trove_server.paths import (
    WORKSPACE,
    Owner,
    RelPath,
    fs_errors,
    open_dir,
    remove_tree,
    shown,
    sorted_names,
    walk,
)

__all__ = ["NamespaceDir", "entry_for"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def entry_for(dir_fd: int, name: str, path: RelPath) -> dict[str, Any] | None:
    """A listing entry (CONTRACT §2.4) from ``lstat``; None if it vanished meanwhile."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    is_dir = stat.S_ISDIR(info.st_mode)
    return {
        "name": shown(name),
        "path": shown(path.display),
        "is_dir": is_dir,
        "size_bytes": None if is_dir else info.st_size,
        "modified_at": iso(info.st_mtime_ns // 1_000_000),
    }


class NamespaceDir:
    """One namespace on disk: ``<root>/workspace/...``, mounted at ``/trove`` for commands.

    ``root`` is created by the server and is the sandbox's mount point (a command cannot
    rename or replace it); ``workspace`` inside it is the command's to change, so it is
    always opened with ``O_NOFOLLOW``.
    """

    def __init__(self, root: Path, owner: Owner = None) -> None:
        self.root = root
        self.owner = owner

    def ensure(self, *, strict: bool = True) -> None:
        """Create the namespace (first use) and make sure ``workspace/`` exists.

        ``strict=False`` (before a command) tolerates a ``workspace`` a command replaced with a
        link or a file: the next command may well be the one that repairs it."""
        for directory in (self.root.parent, self.root):
            if not directory.is_dir():
                directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        if self.owner is not None:
            os.chown(self.root, *self.owner)
        root_fd = os.open(self.root, _DIR_FLAGS)
        try:
            os.close(open_dir(root_fd, (WORKSPACE,), create=True, owner=self.owner))
        except ApiError:
            if not strict:
                return
            raise Conflict(
                "this namespace's workspace/ was replaced by a link or a file; "
                "delete it with a command (rm workspace) to start again"
            ) from None
        finally:
            os.close(root_fd)

    @contextlib.contextmanager
    def workspace(self, *, create: bool = False) -> Iterator[int | None]:
        """A descriptor of ``workspace/``, or None when the namespace has no files yet."""
        if create:
            self.ensure()
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except FileNotFoundError:
            yield None
            return
        try:
            try:
                fd = os.open(WORKSPACE, _DIR_FLAGS, dir_fd=root_fd)
            except FileNotFoundError:
                yield None
                return
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Conflict(
                        "this namespace's workspace/ was replaced by a link or a file; "
                        "the files API will not follow it"
                    ) from None
                raise
            try:
                yield fd
            finally:
                os.close(fd)
        finally:
            os.close(root_fd)

    # --- operations ----------------------------------------------------------------------

    def listing(
        self, path: RelPath, *, recursive: bool, max_entries: int, max_depth: int
    ) -> tuple[list[dict[str, Any]], bool]:
        with self.workspace() as ws_fd:
            if ws_fd is None:
                if path.parts:
                    raise NotFound(f"Path not found: {path.display}")
                return [], False
            dir_fd = self._dir_for_listing(ws_fd, path)
            try:
                entries: list[dict[str, Any]] = []
                truncated = self._walk(
                    dir_fd,
                    path,
                    entries,
                    recursive=recursive,
                    depth=1,
                    max_entries=max_entries,
                    max_depth=max_depth,
                )
                return entries, truncated
            finally:
                os.close(dir_fd)

    @staticmethod
    def _dir_for_listing(ws_fd: int, path: RelPath) -> int:
        try:
            return open_dir(ws_fd, path.parts)
        except Conflict:
            # A file named as a directory: say so plainly.
            raise Conflict(f"{path.display} is not a directory") from None

    def _walk(
        self,
        dir_fd: int,
        path: RelPath,
        out: list[dict[str, Any]],
        *,
        recursive: bool,
        depth: int,
        max_entries: int,
        max_depth: int,
    ) -> bool:
        for name, _ in sorted_names(dir_fd):
            if len(out) >= max_entries:
                return True
            entry = entry_for(dir_fd, name, path.child(name))
            if entry is None:
                continue
            out.append(entry)
            if recursive and entry["is_dir"]:
                try:
                    child_fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    continue  # replaced by a link or removed since the scan: skip it
                try:
                    if depth >= max_depth:
                        if sorted_names(child_fd):
                            return True
                        continue
                    if self._walk(
                        child_fd,
                        path.child(name),
                        out,
                        recursive=True,
                        depth=depth + 1,
                        max_entries=max_entries,
                        max_depth=max_depth,
                    ):
                        return True
                finally:
                    os.close(child_fd)
        return False

    def delete(self, path: RelPath) -> int:
        """Delete a file, link or directory tree; returns the number of files removed."""
        if not path.parts:
            raise Unprocessable("path must name a file or directory inside workspace/")
        with self.workspace() as ws_fd:
            if ws_fd is None:
                raise NotFound(f"Path not found: {path.display}")
            parent = open_dir(ws_fd, path.parts[:-1])
            try:
                with fs_errors(path):
                    info = os.stat(path.name, dir_fd=parent, follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        return remove_tree(parent, path.name)
                    os.unlink(path.name, dir_fd=parent)
                    return 1
            finally:
                os.close(parent)

    def wipe(self) -> int:
        """Empty ``workspace/`` (snapshot restore); returns the number of files removed."""
        removed = 0
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except FileNotFoundError:
            return 0
        try:
            try:
                info = os.stat(WORKSPACE, dir_fd=root_fd, follow_symlinks=False)
            except FileNotFoundError:
                return 0
            if stat.S_ISDIR(info.st_mode):
                removed = remove_tree(root_fd, WORKSPACE)
            else:
                os.unlink(WORKSPACE, dir_fd=root_fd)
        finally:
            os.close(root_fd)
        return removed

    def usage(self) -> tuple[int, int, int | None]:
        """(file count, total bytes, newest modification in ms) of ``workspace/``."""
        files = size = 0
        newest: int | None = None
        with self.workspace() as ws_fd:
            if ws_fd is None:
                return 0, 0, None
            for leaving, entry in walk(ws_fd):
                if leaving:
                    continue
                mtime = entry.info.st_mtime_ns // 1_000_000
                newest = mtime if newest is None else max(newest, mtime)
                if not entry.is_dir:
                    files += 1
                    size += entry.info.st_size
        return files, size, newest
