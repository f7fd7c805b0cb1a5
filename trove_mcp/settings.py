"""What the server needs to reach one namespace: key, namespace, base URL.

From the environment (what ``trove mcp install`` writes into a client's config)::

    TROVE_API_KEY     required — a key for the namespace (a namespace-locked key is enough)
    TROVE_NAMESPACE   required — the namespace every tool works in
    TROVE_BASE_URL    optional — default https://api.trovefiles.dev

or from a saved CLI profile (``--profile NAME``), whose namespace ``--namespace`` or
``TROVE_NAMESPACE`` may override. Anything missing or malformed raises ``SettingsError``,
which the entry point prints on stderr before exiting 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "API_KEY_PATTERN",
    "BAD_API_KEY",
    "DEFAULT_BASE_URL",
    "NAMESPACE_PATTERN",
    "Settings",
    "SettingsError",
    "load_settings",
]

DEFAULT_BASE_URL = "https://api.trovefiles.dev"
ENV_API_KEY = "TROVE_API_KEY"
ENV_NAMESPACE = "TROVE_NAMESPACE"
ENV_BASE_URL = "TROVE_BASE_URL"
# CONTRACT D5: what the server accepts as a namespace name.
NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# What an API key can be: printable ASCII without spaces. Anything else cannot travel in an
# Authorization header, and the HTTP library's refusal quotes the header, key and all, into
# an error the model (and the host's log) would read.
API_KEY_PATTERN = re.compile(r"[!-~]+")
BAD_API_KEY = (
    "contains spaces, control or non-ASCII characters (a copy-paste slip?); "
    "copy the key again — it is not shown here"
)


class SettingsError(Exception):
    """Configuration that cannot work; the message names what is wrong and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything ``create_server`` needs. ``api_key`` never appears in a repr."""

    api_key: str = field(repr=False)
    namespace: str
    base_url: str = DEFAULT_BASE_URL
    source: str = "environment"
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.api_key.strip():
            raise SettingsError("the API key is empty")
        if not API_KEY_PATTERN.fullmatch(self.api_key):
            raise SettingsError(f"the API key {BAD_API_KEY}")
        if not NAMESPACE_PATTERN.fullmatch(self.namespace):
            raise SettingsError(
                f"namespace {self.namespace!r} is not valid: use 1-64 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"base URL {self.base_url!r} must start with http:// or https://")


def load_settings(
    *,
    profile: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Settings from ``--profile`` when given, else from the ``TROVE_*`` environment."""
    env = os.environ if env is None else env
    if profile is not None:
        return _from_profile(profile, namespace, env, config_path)
    api_key = env.get(ENV_API_KEY, "").strip()
    namespace = namespace or env.get(ENV_NAMESPACE, "").strip()
    missing = [
        name for name, value in ((ENV_API_KEY, api_key), (ENV_NAMESPACE, namespace)) if not value
    ]
    if missing:
        raise SettingsError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            f"Set {ENV_API_KEY} and {ENV_NAMESPACE} (and {ENV_BASE_URL} for a server other "
            "than the hosted one) in the MCP client's config — `trove mcp install` writes "
            "them — or run with --profile NAME to use a saved `trove login` profile."
        )
    base_url = (env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    return Settings(api_key, namespace, base_url, source="environment")


def _from_profile(
    name: str, namespace: str | None, env: Mapping[str, str], config_path: Path | None
) -> Settings:
    from trove_cli.config import Config, ProfileNotFound

    try:
        found = Config(config_path).get(name)
    except ProfileNotFound as exc:
        raise SettingsError(str(exc)) from None
    chosen = namespace or env.get(ENV_NAMESPACE, "").strip() or found.namespace
    if not chosen:
        raise SettingsError(
            f"profile '{name}' has no namespace: pass --namespace NS or set {ENV_NAMESPACE}"
        )
    if not found.api_key:
        raise SettingsError(f"profile '{name}' has no API key; run `trove login` again")
    return Settings(found.api_key, chosen, found.base_url, source=f"profile '{name}'")
