"""Reading and rewriting a client's JSON config without ever losing what was there.

* A missing or blank file reads as ``{}``; a UTF-8 byte-order mark is allowed (and not
  written back).
* A file that is not JSON, or JSON that is not an object, is refused with ``ConfigFileError``
  and left byte-for-byte untouched (VS Code's ``mcp.json`` may hold comments, which JSON
  does not allow: we would rather refuse than rewrite them away).
* A write goes to a temporary file beside the target, is flushed to disk, then renamed over
  it, so a crash leaves the old file or the new one, never half of each. The previous file is
  first copied to ``<name>.bak``. The file and its backup are left readable by their owner
  only (``0600`` when new): they hold an API key.
* A symlinked config (dotfile managers) is written through to its target, not replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "BACKUP_SUFFIX",
    "ConfigFileError",
    "backup_path",
    "json_kind",
    "read_config",
    "write_config",
]

BACKUP_SUFFIX = ".bak"


class ConfigFileError(Exception):
    """A config file we must not (or cannot) touch; the message says which and why."""


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def read_config(path: Path) -> dict[str, Any]:
    """The file's JSON object; ``{}`` when it does not exist or is blank."""
    try:
        # utf-8-sig: Windows editors (Notepad) start a saved file with a byte-order mark,
        # which json.loads refuses although the file is valid JSON.
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {_reason(exc)}") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "left it untouched — fix it (comments are not JSON) or move it aside and retry"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigFileError(
            f"{path} holds a JSON {json_kind(data)}, not an object; left it untouched"
        )
    return data


def write_config(path: Path, data: dict[str, Any]) -> Path | None:
    """Atomically replace ``path`` with ``data`` (indent 2, trailing newline).

    Returns the backup of the previous file, or None when there was none.
    """
    target = path.resolve() if path.is_symlink() else path
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigFileError(
            f"cannot write {path}: {_blocking_file(target.parent)} is a file, not a directory"
        ) from None
    except OSError as exc:
        raise ConfigFileError(f"cannot write {path}: {_reason(exc)}") from exc
    try:
        backup = None
        mode = 0o600
        if target.exists():
            backup = backup_path(target)
            shutil.copy2(target, backup)
            # Owner-only, whatever the file allowed before: it holds (or held) an API key,
            # and home directories are often world-readable. The backup too.
            mode = target.stat().st_mode & 0o700
            os.chmod(backup, mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigFileError(f"cannot write {path}: {_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigFileError(f"cannot write {path}: {_reason(exc)}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return backup


def _blocking_file(directory: Path) -> Path:
    """The ancestor of ``directory`` that exists but is not a directory."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate
    return directory


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def json_kind(value: object) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__
    )
