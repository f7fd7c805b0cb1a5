"""Client-side path spelling (CONTRACT §2.1).

``/write``, ``/delete`` and ``/files/{path}`` take namespace-relative paths, so a leading ``/``
and one leading ``workspace/`` are stripped; the two ``/v1/files*`` routes take the path as the
caller wrote it (the server accepts both spellings there).
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["file_url", "relative_path"]


def relative_path(path: str) -> str:
    """``workspace/notes/a.txt`` → ``notes/a.txt``; refuses a path that names no file."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a string, not {type(path).__name__}")
    rel = path.lstrip("/")
    if rel == "workspace":
        rel = ""
    elif rel.startswith("workspace/"):
        rel = rel[len("workspace/") :]
    if not rel.strip("/"):
        raise ValueError(f"path {path!r} does not name a file inside workspace/")
    return rel


def file_url(path: str) -> str:
    """The ``/files/{path}`` URL, percent-encoded so ``?``, ``#`` and spaces survive.

    ``.`` and ``..`` segments are encoded too: left literal, the URL layer would resolve them
    and send the request to another route (``../v1/me`` → ``GET /v1/me``); encoded, they
    reach ``/files`` and the server judges the path exactly as it does for ``/write``.
    """
    segments = relative_path(path).split("/")
    return "/files/" + "/".join(_DOT_SEGMENTS.get(s) or quote(s, safe="") for s in segments)


_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}
