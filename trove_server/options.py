"""The command-line options of ``trove server``, ``trove dev`` and ``python -m trove_server``.

One list of click options, each with its ``TROVE_SERVER_*`` environment variable, turned
into ``Settings`` by ``settings_from_options``. ``--config FILE`` takes any other setting
from a JSON object (``{"exec_processes": 128, ...}``); options given explicitly win.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import click

from trove_server.settings import DEFAULT_PORT, Settings, SettingsError, parse_retry_schedule

__all__ = ["default_data_dir", "server_options", "settings_from_options"]

F = TypeVar("F", bound=Callable[..., Any])


def default_data_dir(kind: str) -> Path:
    """``$TROVE_HOME/<kind>`` (``~/.trove/server`` or ``~/.trove/dev``)."""
    home = os.environ.get("TROVE_HOME") or str(Path.home() / ".trove")
    return Path(home) / kind


_OPTIONS = [
    click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        envvar="TROVE_SERVER_HOST",
        help="Interface to listen on.",
    ),
    click.option(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        show_default=True,
        envvar="TROVE_SERVER_PORT",
        help="Port (0: any free port).",
    ),
    click.option(
        "--public-url",
        default=None,
        envvar="TROVE_SERVER_PUBLIC_URL",
        help="Base URL for links shown to humans (behind a proxy).",
    ),
    click.option(
        "--exec-network",
        type=click.Choice(["host", "none"]),
        default="host",
        show_default=True,
        envvar="TROVE_SERVER_EXEC_NETWORK",
        help="Network access of commands.",
    ),
    click.option(
        "--exec-timeout",
        type=float,
        default=30.0,
        show_default=True,
        envvar="TROVE_SERVER_EXEC_TIMEOUT",
        help="Default seconds per command.",
    ),
    click.option(
        "--sandbox",
        type=click.Choice(["auto", "bwrap", "none"]),
        default="auto",
        show_default=True,
        envvar="TROVE_SERVER_SANDBOX",
        help="Isolation of commands (auto: bubblewrap when it works).",
    ),
    click.option(
        "--require-sandbox",
        is_flag=True,
        envvar="TROVE_SERVER_REQUIRE_SANDBOX",
        help="Refuse to start unless commands run under bubblewrap.",
    ),
    click.option(
        "--allow-signup",
        is_flag=True,
        envvar="TROVE_SERVER_ALLOW_SIGNUP",
        help="Serve POST /v1/workspaces (open sign-up).",
    ),
    click.option(
        "--retry-schedule",
        default=None,
        envvar="TROVE_SERVER_RETRY_SCHEDULE",
        metavar="DELAYS",
        help="Webhook retry delays, e.g. '5s,30s,2m,10m' [default: 5s … 6h].",
    ),
    click.option(
        "--sse-keepalive",
        type=float,
        default=15.0,
        show_default=True,
        envvar="TROVE_SERVER_SSE_KEEPALIVE",
        help="Seconds between keep-alive comments on event streams.",
    ),
    click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="TROVE_SERVER_CONFIG",
        help="JSON file with further settings (see trove_server.settings).",
    ),
    click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
        envvar="TROVE_SERVER_LOG_LEVEL",
    ),
]


def server_options(kind: str = "server") -> Callable[[F], F]:
    """All server options; ``kind`` names the default data directory (``server``, ``dev``)."""
    data_dir = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        envvar="TROVE_SERVER_DATA_DIR",
        help=f"Database, namespaces and snapshots [default: ~/.trove/{kind}].",
    )

    def apply(function: F) -> F:
        for option in reversed([*_OPTIONS[:2], data_dir, *_OPTIONS[2:]]):
            function = option(function)
        return function

    return apply


def settings_from_options(params: dict[str, Any], *, data_dir_kind: str = "server") -> Settings:
    """Settings from the parsed options (``click.UsageError`` for a bad value)."""
    values: dict[str, Any] = {}
    config_file: Path | None = params.get("config_file")
    if config_file is not None:
        try:
            loaded = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"--config {config_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise click.UsageError(f"--config {config_file}: expected a JSON object")
        unknown = sorted(set(loaded) - {f.name for f in fields(Settings)})
        if unknown:
            raise click.UsageError(
                f"--config {config_file}: unknown setting(s) {', '.join(unknown)} "
                "(see trove_server.settings.Settings)"
            )
        values.update(loaded)
    for name in (
        "host",
        "port",
        "public_url",
        "exec_network",
        "exec_timeout",
        "sandbox",
        "sse_keepalive",
        "log_level",
    ):
        source = click.get_current_context().get_parameter_source(name)
        if name not in values or source not in (
            click.core.ParameterSource.DEFAULT,
            click.core.ParameterSource.DEFAULT_MAP,
        ):
            values[name] = params[name]
    for flag in ("require_sandbox", "allow_signup"):
        if params.get(flag):
            values[flag] = True
    if params.get("retry_schedule") is not None:
        try:
            values["retry_schedule"] = parse_retry_schedule(params["retry_schedule"])
        except SettingsError as exc:
            raise click.UsageError(f"--retry-schedule: {exc}") from None
    values["data_dir"] = (
        params.get("data_dir") or values.get("data_dir") or default_data_dir(data_dir_kind)
    )
    timeout, limit = values.get("exec_timeout"), values.get("exec_timeout_max", 600)
    if _is_number(timeout) and _is_number(limit) and timeout > limit:
        values["exec_timeout_max"] = timeout  # (wrong types are Settings' to report)
    try:
        return Settings(**values)
    except (SettingsError, TypeError) as exc:
        raise click.UsageError(str(exc)) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
