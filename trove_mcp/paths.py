"""Paths as agents write them → the one spelling the API takes, or a clear refusal.

Tools take paths relative to the namespace root, where ``workspace/`` is the persistent
directory: ``workspace/notes.md``. Agents also write ``notes.md`` (taken as
``workspace/notes.md``, as the SDK does) and, having run ``pwd`` in the shell, the absolute
``/trove/workspace/notes.md``; both are accepted. Anything that resolves outside
``workspace/`` — ``../x``, ``workspace/../x``, ``/etc/passwd``, ``~/x`` — is refused here,
before a request is made, with a message saying what would work. (The server refuses them
too; this is for a better message, not for safety.)
"""

from __future__ import annotations

import posixpath

__all__ = ["WORKSPACE", "PathError", "workspace_path"]

WORKSPACE = "workspace"
# Where the sandbox mounts the namespace root (CONTRACT D1); what `pwd` prints in trove_exec.
MOUNT_POINT = "/trove"


class PathError(ValueError):
    """A tool path that does not name something inside ``workspace/``."""


def workspace_path(path: str, *, allow_root: bool = False) -> str:
    """``notes/a.md``, ``workspace/notes/a.md`` or ``/trove/workspace/notes/a.md`` →
    ``workspace/notes/a.md``; ``workspace/`` itself only when ``allow_root``."""
    if not path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise PathError(f"path {path!r} is empty or contains control characters")
    rel = path
    for prefix in (MOUNT_POINT + "/", "/"):
        if rel.startswith(prefix) and _in_workspace(rel[len(prefix) :]):
            rel = rel[len(prefix) :]
            break
    if rel.startswith("/") or rel == "~" or rel.startswith("~/"):
        raise PathError(
            f"{path!r} is outside the workspace. Tool paths are relative to the namespace "
            f"root, e.g. workspace/notes.md (the shell sees it as {MOUNT_POINT}/workspace/"
            "notes.md); only workspace/ persists."
        )
    if not _in_workspace(rel):
        rel = f"{WORKSPACE}/{rel}"
    normal = posixpath.normpath(rel)
    if normal != WORKSPACE and not normal.startswith(WORKSPACE + "/"):
        raise PathError(
            f"{path!r} leads outside workspace/ ('..' may not climb above it); "
            "use a path such as workspace/notes.md"
        )
    if normal == WORKSPACE:
        if not allow_root:
            raise PathError(f"{path!r} is the workspace directory itself; name a file in it")
        return WORKSPACE + "/"
    return normal


def _in_workspace(rel: str) -> bool:
    return rel == WORKSPACE or rel.startswith(WORKSPACE + "/")
