"""``trove server`` and ``trove dev``: run the local Trove server (``trove_server``).

``trove server`` is the bare server (``--bootstrap`` creates a first workspace and prints its
keys once). ``trove dev`` is the one-command local stack: on first run it creates
``~/.trove/dev``, a workspace and its keys, saves the CLI profiles ``local`` (workspace key,
namespace ``demo``) and ``local-admin`` (admin key) — ``local`` becomes the default profile
when there was none — and prints the URL, the keys (once), the dashboard link and commands to
try; later runs reuse all of it. Everything but the server's own log goes to stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import CLIError
from trove_server.options import server_options, settings_from_options

if TYPE_CHECKING:
    from trove_server.bootstrap import Credentials

__all__ = ["dev_command", "server_command"]

MISSING_EXTRA = "the local server needs the server extra: pip install 'trove-sdk[server]'"
DEV_PROFILE = "local"
DEV_ADMIN_PROFILE = "local-admin"
DEV_NAMESPACE = "demo"


def _launch_module() -> Any:
    try:
        from trove_server import launch
    except ImportError as exc:
        raise CLIError(f"{MISSING_EXTRA} ({exc.name} is missing)") from None
    return launch


@click.command("server")
@server_options()
@click.option(
    "--bootstrap",
    is_flag=True,
    help="Create a first workspace and print its keys (once) when there is none.",
)
def server_command(bootstrap: bool, **params: Any) -> None:
    """Run the local Trove server (the whole API on this machine)."""
    launch = _launch_module()
    settings = settings_from_options(params)
    sys.exit(launch.run_server_command(settings, bootstrap=bootstrap))


def save_dev_profiles(creds: Credentials, base_url: str) -> list[str]:
    """Save ``local`` and ``local-admin``; returns the lines that tell the user."""
    from trove_cli.config import Config, Profile

    config = Config()
    make_default = not config.profile_names
    config.save(
        Profile(
            name=DEV_PROFILE,
            api_key=creds.api_key,
            workspace_id=creds.workspace_id,
            base_url=base_url,
            namespace=DEV_NAMESPACE,
        ),
        make_default=make_default,
    )
    config.save(
        Profile(
            name=DEV_ADMIN_PROFILE,
            api_key=creds.admin_key,
            workspace_id=creds.workspace_id,
            base_url=base_url,
        )
    )
    default = config.default_profile == DEV_PROFILE
    use = "" if default else f"--profile {DEV_PROFILE} "
    admin = f"--profile {DEV_ADMIN_PROFILE} "
    note = " (the default profile)" if default else ""
    return [
        f"  CLI profiles saved: '{DEV_PROFILE}'{note}, '{DEV_ADMIN_PROFILE}'  ({config.path})",
        "",
        "  Try:",
        f"    trove {use}run 'echo hello > workspace/hello.txt && ls -l workspace'",
        f"    trove {use}cat workspace/hello.txt",
        f"    trove {use}tail                      # events as they happen",
        f"    trove {admin}webhooks listen --forward-to http://localhost:8000/trove/events",
        f"    trove {admin}keys create agent-1 --namespace {DEV_NAMESPACE}",
    ]


@click.command("dev")
@server_options("dev")
def dev_command(**params: Any) -> None:
    """Run a ready-to-use local Trove (server, workspace, keys, CLI profile)."""
    launch = _launch_module()
    settings = settings_from_options(params, data_dir_kind="dev")

    def ready(creds: Credentials, base_url: str, created: bool) -> list[str]:
        return save_dev_profiles(creds, base_url)

    sys.exit(launch.run_dev_command(settings, on_ready=ready))
