"""``trove mcp install | uninstall | status`` as functions over client config files.

The server entry is written with the absolute path of the running interpreter (hosts such as
Claude Desktop start servers with a minimal ``PATH``, so ``python`` or ``trove-mcp`` may not
resolve) and ``-m trove_mcp``. Other servers in the file, and any other top-level keys, are
preserved. Every function works on one client at a time and reports an ``Outcome`` instead of
raising, so one broken config never stops the others.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trove_mcp.install.clients import CLIENTS, Client, Host, detect, resolve_client_names
from trove_mcp.install.configfile import ConfigFileError, json_kind, read_config, write_config

__all__ = [
    "CLIENTS",
    "DEFAULT_SERVER_NAME",
    "ClientStatus",
    "Host",
    "Outcome",
    "build_entry",
    "detect",
    "install_client",
    "minted_key_id",
    "resolve_client_names",
    "status",
    "uninstall_client",
]

DEFAULT_SERVER_NAME = "trove"
DEFAULT_BASE_URL = "https://api.trovefiles.dev"
# The id of a key minted for one client (``--mint-key``), so ``uninstall`` can offer to
# revoke it. The server ignores it.
ENV_KEY_ID = "TROVE_KEY_ID"


def build_entry(
    api_key: str,
    namespace: str,
    *,
    base_url: str | None = None,
    key_id: str | None = None,
    python: str | None = None,
) -> dict[str, Any]:
    """The server entry: this interpreter, ``-m trove_mcp``, and the ``TROVE_*`` env."""
    env = {"TROVE_API_KEY": api_key, "TROVE_NAMESPACE": namespace}
    if base_url and base_url.rstrip("/") != DEFAULT_BASE_URL:
        env["TROVE_BASE_URL"] = base_url.rstrip("/")
    if key_id:
        env[ENV_KEY_ID] = key_id
    # abspath, not realpath: a venv's python is a symlink to the base interpreter, and
    # resolving it would launch the server outside the venv that has trove installed.
    return {
        "command": os.path.abspath(python or sys.executable),
        "args": ["-m", "trove_mcp"],
        "env": env,
    }


@dataclass(frozen=True)
class Outcome:
    """What happened to one client's config."""

    client: str
    label: str
    path: Path
    ok: bool
    changed: bool
    message: str
    backup: Path | None = None
    entry: dict[str, Any] | None = None  # the entry written, or the one removed
    replaced: dict[str, Any] | None = None  # install: the entry it overwrote

    @property
    def minted_key_id(self) -> str | None:
        """The ``--mint-key`` key of the entry written or removed, if it has one."""
        return minted_key_id(self.entry)

    def to_json(self) -> dict[str, Any]:
        """One row of ``trove mcp install|uninstall --json``; the API key is never in it."""
        return {
            "client": self.client,
            "label": self.label,
            "path": str(self.path),
            "ok": self.ok,
            "changed": self.changed,
            "message": self.message,
            "backup": None if self.backup is None else str(self.backup),
            "key_id": self.minted_key_id,
        }


def minted_key_id(entry: dict[str, Any] | None) -> str | None:
    env = (entry or {}).get("env")
    return _text(env, ENV_KEY_ID) if isinstance(env, dict) else None


def install_client(
    key: str, entry: dict[str, Any], *, name: str = DEFAULT_SERVER_NAME, host: Host | None = None
) -> Outcome:
    """Add (or replace) ``<servers key>.<name>`` in ``key``'s config."""
    client = CLIENTS[key]
    path = client.path(host or Host.current())
    full = {**client.entry_fields, **entry}
    try:
        data = read_config(path)
        servers = _servers(data, client, path)
        if servers is None:
            servers = data[client.servers_key] = {}
        previous = servers.get(name)
        if previous == full:
            return Outcome(key, client.label, path, True, False, f"'{name}' already up to date")
        servers[name] = full
        backup = write_config(path, data)
    except ConfigFileError as exc:
        return Outcome(key, client.label, path, False, False, str(exc))
    return Outcome(
        key,
        client.label,
        path,
        True,
        True,
        f"wrote '{name}'",
        backup,
        full,
        previous if isinstance(previous, dict) else None,
    )


def uninstall_client(
    key: str, *, name: str = DEFAULT_SERVER_NAME, host: Host | None = None
) -> Outcome:
    """Remove ``<servers key>.<name>``; a missing file or entry is reported, not an error."""
    client = CLIENTS[key]
    path = client.path(host or Host.current())
    try:
        if not path.exists():
            return Outcome(key, client.label, path, True, False, f"'{name}' not present")
        data = read_config(path)
        servers = _servers(data, client, path)
        if servers is None or name not in servers:
            return Outcome(key, client.label, path, True, False, f"'{name}' not present")
        removed = servers.pop(name)
        if not servers:
            del data[client.servers_key]
        backup = write_config(path, data)
    except ConfigFileError as exc:
        return Outcome(key, client.label, path, False, False, str(exc))
    return Outcome(
        key,
        client.label,
        path,
        True,
        True,
        f"removed '{name}'",
        backup,
        removed if isinstance(removed, dict) else None,
    )


@dataclass(frozen=True)
class ClientStatus:
    """One row of ``trove mcp status``. The API key itself is never part of it."""

    client: str
    label: str
    path: Path
    config_exists: bool
    configured: bool
    namespace: str | None = None
    base_url: str | None = None
    command: str | None = None
    command_exists: bool | None = None
    key_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "label": self.label,
            "path": str(self.path),
            "config_exists": self.config_exists,
            "configured": self.configured,
            "namespace": self.namespace,
            "base_url": self.base_url,
            "command": self.command,
            "command_exists": self.command_exists,
            "key_id": self.key_id,
            "error": self.error,
        }


def status(*, name: str = DEFAULT_SERVER_NAME, host: Host | None = None) -> list[ClientStatus]:
    """Every known client: is its config there, and does it have our entry?"""
    host = host or Host.current()
    rows = []
    for key, client in CLIENTS.items():
        path = client.path(host)
        exists = path.exists()
        try:
            servers = _servers(read_config(path), client, path) if exists else None
        except ConfigFileError as exc:
            rows.append(ClientStatus(key, client.label, path, exists, False, error=str(exc)))
            continue
        entry = (servers or {}).get(name)
        if not isinstance(entry, dict):
            rows.append(ClientStatus(key, client.label, path, exists, False))
            continue
        env = entry.get("env")
        env = env if isinstance(env, dict) else {}
        command = _text(entry, "command")
        rows.append(
            ClientStatus(
                key,
                client.label,
                path,
                exists,
                True,
                namespace=_text(env, "TROVE_NAMESPACE"),
                base_url=_text(env, "TROVE_BASE_URL") or DEFAULT_BASE_URL,
                command=command,
                command_exists=None if command is None else os.path.exists(command),
                key_id=_text(env, ENV_KEY_ID),
            )
        )
    return rows


def _servers(data: dict[str, Any], client: Client, path: Path) -> dict[str, Any] | None:
    """The client's servers object; None when the file has none yet."""
    servers = data.get(client.servers_key)
    if servers is None:
        return None
    if not isinstance(servers, dict):
        raise ConfigFileError(
            f"{path}: '{client.servers_key}' is a JSON {json_kind(servers)}, not an object; "
            "left it untouched"
        )
    return servers


def _text(mapping: dict[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) else None
