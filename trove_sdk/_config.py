"""Defaults and environment: base URL, timeouts, the ``TROVE_*`` variables."""

from __future__ import annotations

import os
from typing import Final

__all__ = [
    "DEFAULT_ADMIN_TIMEOUT",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "ENV_ADMIN_KEY",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_NAMESPACE",
    "ENV_WORKSPACE_ID",
    "USE_CLIENT_DEFAULT",
    "UseClientDefault",
    "base_url_from_env",
    "require_env",
]

DEFAULT_BASE_URL: Final = "https://api.trovefiles.dev"
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_ADMIN_TIMEOUT: Final = 30.0
PROBE_TIMEOUT: Final = 10.0

ENV_API_KEY: Final = "TROVE_API_KEY"
ENV_WORKSPACE_ID: Final = "TROVE_WORKSPACE_ID"
ENV_NAMESPACE: Final = "TROVE_NAMESPACE"
ENV_BASE_URL: Final = "TROVE_BASE_URL"
ENV_ADMIN_KEY: Final = "TROVE_ADMIN_KEY"

# Limits of the API (CONTRACT §3.5); the client checks some locally to fail before sending.
MAX_STDIN_BYTES: Final = 1_048_576
MAX_UPLOAD_BYTES: Final = 104_857_600

INIT_PATH: Final = "workspace/.trove/init.sh"
AGENT_MEMORY_PATH: Final = "workspace/.trove/agent.md"


class UseClientDefault:
    """Sentinel type: "not given", so that ``timeout=None`` can mean "no limit"."""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT: Final = UseClientDefault()


def base_url_from_env(default: str = DEFAULT_BASE_URL) -> str:
    return (os.environ.get(ENV_BASE_URL) or default).rstrip("/")


def require_env(*names: str) -> str:
    """The first of ``names`` that is set, or a ``ValueError`` naming what to set."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    wanted = " or ".join(names)
    raise ValueError(f"set {wanted} (for a local server, `trove dev` prints the values)")
