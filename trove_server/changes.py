"""Which files a command changed (D8): a bounded scan of ``workspace/`` before and after.

Each scan records ``(mtime, size, inode)`` of every non-directory entry, without following
links. Comparing the two gives the files the command created, changed or removed, reported
as ``file.written`` / ``file.deleted`` events with ``source: "exec"``. A namespace larger than
``limit`` entries is not scanned at all (``files_scan: "skipped"``): a partial picture would
report deletions that did not happen.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from trove_server.errors import ApiError
from trove_server.paths import walk
from trove_server.storage import NamespaceDir

__all__ = ["Changes", "FileState", "diff", "scan"]

FileState = dict[str, tuple[int, int, int]]  # "a/b.txt" → (mtime_ns, size, inode)


def scan(namespace: NamespaceDir, limit: int) -> FileState | None:
    """The state of ``workspace/``, or None when it holds more than ``limit`` entries."""
    state: FileState = {}
    seen = 0
    try:
        with namespace.workspace() as ws_fd:
            if ws_fd is None:
                return state
            # strict: a directory it cannot open would make its files look deleted.
            with contextlib.closing(walk(ws_fd, strict=True)) as entries:
                for leaving, entry in entries:
                    if leaving:
                        continue
                    seen += 1
                    if seen > limit:
                        return None
                    if not entry.is_dir:
                        info = entry.info
                        state[entry.rel] = (info.st_mtime_ns, info.st_size, info.st_ino)
    except (OSError, ApiError):
        return None
    return state


@dataclass(frozen=True)
class Changes:
    written: list[tuple[str, int]]  # (path relative to workspace/, size)
    deleted: list[str]


def diff(before: FileState, after: FileState) -> Changes:
    written = sorted((path, meta[1]) for path, meta in after.items() if before.get(path) != meta)
    deleted = sorted(path for path in before if path not in after)
    return Changes(written, deleted)
