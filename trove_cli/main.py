"""The root ``trove`` group: global options, lazily loaded command groups, one error boundary.

Subcommands are listed here as import strings and imported only when invoked (or when
``--help`` needs their one-line summary), so ``trove --version`` never pays for rich, uvicorn,
the server or the MCP SDK.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

try:
    import click
except ImportError:  # pragma: no cover - exercised by the install-hint test in a bare venv
    click = None  # type: ignore[assignment]

from trove_sdk._version import __version__

# name → "module:attribute"; one line per command or group.
COMMANDS: dict[str, str] = {
    "server": "trove_cli.commands.server:server_command",
    "dev": "trove_cli.commands.server:dev_command",
}


if click is not None:

    class LazyGroup(click.Group):
        """A group whose subcommands are imported on first use."""

        def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._lazy = lazy

        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted({*super().list_commands(ctx), *self._lazy})

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name in self._lazy:
                module_name, _, attr = self._lazy[cmd_name].partition(":")
                command = getattr(importlib.import_module(module_name), attr)
                if not isinstance(command, click.Command):
                    raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
                return command
            return super().get_command(ctx, cmd_name)

    @click.group(
        cls=LazyGroup,
        lazy=COMMANDS,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @click.version_option(__version__, "--version", prog_name="trove")
    @click.option(
        "--profile",
        "profile",
        default=None,
        metavar="NAME",
        help="Use this saved profile (default: env vars, then the default profile).",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
    @click.pass_context
    def cli(ctx: click.Context, profile: str | None, debug: bool) -> None:
        """Trove: persistent workspaces and real shell commands for AI agents."""
        from trove_cli.app import App

        ctx.obj = App(profile_name=profile, debug=debug)


def main() -> None:
    """Console-script entry point."""
    if click is None:
        sys.stderr.write("the trove command needs the CLI extra: pip install 'trove-sdk[cli]'\n")
        raise SystemExit(1)
    cli.main(prog_name="trove")
