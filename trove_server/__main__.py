"""``python -m trove_server``: the same options (and ``TROVE_SERVER_*`` variables) as
``trove server``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trove_server.options import server_options, settings_from_options

__all__ = ["main"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@server_options()
@click.option(
    "--bootstrap",
    is_flag=True,
    help="Create a first workspace and print its keys (once) if there is none.",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="Write {base_url, pid} here once listening (tests).",
)
def main(bootstrap: bool, ready_file: Path | None, **params: Any) -> None:
    """Run the local Trove server."""
    from trove_server.launch import run_server_command

    settings = settings_from_options(params)
    sys.exit(run_server_command(settings, bootstrap=bootstrap, ready_file=ready_file))


if __name__ == "__main__":
    main()
