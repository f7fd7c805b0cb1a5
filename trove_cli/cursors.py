"""Where ``webhooks listen`` resumes: its last fully forwarded stream cursor, on disk.

One small JSON file per profile and target under ``TROVE_HOME/listen/``, replaced atomically,
so a crash or Ctrl-C at any moment leaves either the old cursor or the new one — and resuming
from either loses nothing (at worst a few events are forwarded twice; receivers dedupe by id).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from trove_cli.config import Profile, trove_home

__all__ = ["CursorStore"]


class CursorStore:
    """The saved cursor of one ``(profile, workspace, server, target)``."""

    def __init__(self, profile: Profile, target: str, home: Path | None = None) -> None:
        identity = "\n".join((profile.name, profile.workspace_id, profile.base_url, target))
        digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
        self.path = (home or trove_home()) / "listen" / f"{digest}.json"
        self._meta = {
            "profile": profile.name,
            "workspace_id": profile.workspace_id,
            "target": target,
        }
        self._written: str | None = None

    def load(self) -> str | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        cursor = data.get("cursor") if isinstance(data, dict) else None
        self._written = cursor if isinstance(cursor, str) and cursor else None
        return self._written

    def save(self, cursor: str) -> None:
        if cursor == self._written:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({**self._meta, "cursor": cursor}) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".cursor-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._written = cursor

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self._written = None
