"""The root ``trove`` group: global options, lazily loaded subcommands, the one error boundary.

``TroveGroup.invoke`` is where every failure of every command ends up: a ``TroveError``, a
missing profile or a Ctrl-C becomes one line on stderr and the exit code of CONTRACT §5.3
(``trove_cli.errors``). ``--debug`` lets unexpected exceptions through with their traceback.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from trove_cli.main import COMMANDS, version

__all__ = ["LazyGroup", "TroveGroup", "cli"]


class LazyGroup(click.Group):
    """A group whose subcommands are ``"module:attr"`` strings, imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = getattr(exc, "name", None) or str(exc)
            if module_name == missing or module_name.startswith(f"{missing}."):
                # A line in the table whose module is not written yet: hide it rather than
                # break every other command.
                return None
            raise
        command = getattr(module, attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


class TroveGroup(LazyGroup):
    """The root group: maps every error to its exit code in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        from trove_cli.errors import handle, is_expected

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            app = ctx.obj
            if getattr(app, "debug", False) and not is_expected(exc):
                raise
            raise click.exceptions.Exit(handle(exc)) from exc


@click.group(
    cls=TroveGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(version(), "--version", prog_name="trove")
@click.option(
    "--profile",
    "profile",
    default=None,
    metavar="NAME",
    help="Use this saved profile (default: TROVE_* env vars, then the default profile).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, debug: bool) -> None:
    """Trove: persistent workspaces and real shell commands for AI agents.

    \b
    Start a local stack:   trove dev
    Log in to a server:    trove login [--base-url URL]
    Run in a namespace:    trove run -n alice 'ls workspace/'
    Watch what happens:    trove tail
    """
    from trove_cli.app import App

    ctx.obj = App(profile_name=profile, debug=debug)
