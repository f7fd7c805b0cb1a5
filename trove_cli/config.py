"""CLI profiles: ``~/.trove/config.json`` (mode 0600, written atomically) and resolution.

Layout (CONTRACT §5.2, plus two additive keys)::

    {"default_profile": "local",
     "profiles": {"local": {"api_key": "...", "workspace_id": "ws-...",
                            "base_url": "http://127.0.0.1:8787", "namespace": "alice",
                            "listen_secret": "trove-whsec-..."}}}

Resolution: ``--profile NAME`` > the synthetic ``env`` profile (``TROVE_API_KEY`` and
``TROVE_WORKSPACE_ID`` both set) > ``default_profile`` > ``default``. ``TROVE_HOME`` moves the
whole directory (tests, CI, several local stacks side by side).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

# The same values as trove_sdk._config (a test keeps them equal). Importing them from there
# would run trove_sdk/__init__ and load httpx (and, through it, rich) on every `trove --help`.
DEFAULT_BASE_URL = "https://api.trovefiles.dev"
ENV_API_KEY = "TROVE_API_KEY"
ENV_WORKSPACE_ID = "TROVE_WORKSPACE_ID"
ENV_NAMESPACE = "TROVE_NAMESPACE"
ENV_BASE_URL = "TROVE_BASE_URL"

__all__ = [
    "Config",
    "Profile",
    "ProfileNotFound",
    "base_url_problem",
    "config_path",
    "trove_home",
]

ENV_HOME = "TROVE_HOME"
ENV_PROFILE_NAME = "env"
DEFAULT_PROFILE_NAME = "default"


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API root (None when it can): an http(s) URL with a host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return None
    if "://" not in url:
        return f"{url!r} has no http:// or https:// in front (did you mean 'http://{url}'?)"
    return f"{url!r} is not an http(s) URL with a host"


def trove_home() -> Path:
    """``$TROVE_HOME``, else ``~/.trove``."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".trove")


def config_path() -> Path:
    return trove_home() / "config.json"


class ProfileNotFound(LookupError):
    """No profile by that name (the CLI exits 3 and suggests ``trove login``)."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        hint = f" (saved profiles: {', '.join(known)})" if known else ""
        super().__init__(f"no profile named '{name}'{hint}; run 'trove login' or 'trove dev'")


@dataclass(frozen=True)
class Profile:
    """What a command needs to talk to Trove."""

    name: str
    api_key: str = field(repr=False)
    workspace_id: str
    base_url: str = DEFAULT_BASE_URL
    namespace: str | None = None
    listen_secret: str | None = field(default=None, repr=False)
    source: str = "config"  # "config" or "env"

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("name", "source")}
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Profile:
        return cls(
            name=name,
            api_key=str(data.get("api_key") or ""),
            workspace_id=str(data.get("workspace_id") or ""),
            base_url=str(data.get("base_url") or DEFAULT_BASE_URL).rstrip("/"),
            namespace=data.get("namespace") or None,
            listen_secret=data.get("listen_secret") or None,
        )


class Config:
    """The profiles file. A missing, unreadable or corrupt file reads as empty."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_path()
        self._unusable = False  # a file is there, but it could not be read as profiles
        self.set_aside: Path | None = None
        self._data = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"profiles": {}}
        except (OSError, ValueError):
            self._unusable = True
            return {"profiles": {}}
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            self._unusable = True
            return {"profiles": {}}
        return data

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def profile_names(self) -> list[str]:
        return sorted(self._data["profiles"])

    @property
    def default_profile(self) -> str:
        name = self._data.get("default_profile")
        return name if isinstance(name, str) and name else DEFAULT_PROFILE_NAME

    def get(self, name: str) -> Profile:
        raw = self._data["profiles"].get(name)
        if not isinstance(raw, dict):
            raise ProfileNotFound(name, self.profile_names)
        return Profile.from_json(name, raw)

    def resolve(self, name: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
        """The active profile (see the module docstring for the precedence)."""
        env = os.environ if env is None else env
        if name is None and env.get(ENV_API_KEY) and env.get(ENV_WORKSPACE_ID):
            return Profile(
                name=ENV_PROFILE_NAME,
                api_key=env[ENV_API_KEY],
                workspace_id=env[ENV_WORKSPACE_ID],
                base_url=(env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/"),
                namespace=env.get(ENV_NAMESPACE) or None,
                source="env",
            )
        return self.get(name or self.default_profile)

    def save(self, profile: Profile, *, make_default: bool = False) -> None:
        """Store ``profile`` under its name; ``make_default`` also makes it the default."""
        self._data["profiles"][profile.name] = profile.to_json()
        if make_default:
            self._data["default_profile"] = profile.name
        self._write()

    def update(self, name: str, **changes: Any) -> Profile:
        profile = replace(self.get(name), **changes)
        self.save(profile)
        return profile

    def listen_secret(self, profile: Profile) -> str | None:
        """The local signing secret ``webhooks listen`` and ``trigger`` use for ``profile``."""
        if profile.source == "config":
            return profile.listen_secret
        stored = self._data.get("listen_secrets", {}).get(profile.name)
        return stored if isinstance(stored, str) and stored else None

    def save_listen_secret(self, profile: Profile, secret: str) -> None:
        """Remember ``secret`` for ``profile``; the synthetic ``env`` profile keeps its own
        under ``listen_secrets`` since it has no entry of its own to hold it."""
        if profile.source == "config":
            self.update(profile.name, listen_secret=secret)
            return
        secrets = self._data.setdefault("listen_secrets", {})
        secrets[profile.name] = secret
        self._write()

    def delete(self, name: str) -> bool:
        if self._data["profiles"].pop(name, None) is None:
            return False
        if self._data.get("default_profile") == name:
            self._data.pop("default_profile")
        self._write()
        return True

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._unusable:
            self._move_aside()
        text = json.dumps(self._data, indent=2) + "\n"
        # Created 0600 from the first byte, then renamed over: never a readable moment,
        # never a half-written file.
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _move_aside(self) -> None:
        """Keep a file that read as empty (a hand edit with a stray comma, say) instead of
        writing over the profiles it may still hold; say where it went."""
        import time

        from trove_cli.output import Output

        self._unusable = False
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        with contextlib.suppress(OSError):
            os.chmod(aside, 0o600)  # it may hold keys, whatever mode the editor left
        self.set_aside = aside
        Output().warn(
            f"warning: {self.path} could not be read as profiles; it was kept as {aside} "
            "and a new one written"
        )
