"""The ``trove`` entry point: the table of command groups and the fast paths.

Subcommands are listed here as import strings and imported only when invoked (or when
``--help`` needs their one-line summary), so no command pays for another's imports. The root
group itself lives in ``trove_cli.root``; this module stays import-light because the console
script imports it on every run: ``trove --version`` is answered before click (~50 ms) or
``trove_sdk`` (httpx, ~250 ms) is ever imported.
"""

from __future__ import annotations

# Only modules Python has loaded before running any script: this import is on the path of
# every `trove` invocation, and `trove --version` must cost little more than `python -c pass`.
import os
import sys

__all__ = ["COMMANDS", "main", "version"]  # and ``cli``, resolved lazily below

# name → "module:attribute"; one line per top-level command or group.
COMMANDS: dict[str, str] = {
    "server": "trove_cli.commands.server:server_command",
    "dev": "trove_cli.commands.server:dev_command",
    "login": "trove_cli.commands.auth:login_command",
    "logout": "trove_cli.commands.auth:logout_command",
    "whoami": "trove_cli.commands.auth:whoami_command",
    "doctor": "trove_cli.commands.doctor:doctor_command",
    "run": "trove_cli.commands.run:run_command",
    "ls": "trove_cli.commands.files:ls_command",
    "cat": "trove_cli.commands.files:cat_command",
    "put": "trove_cli.commands.files:put_command",
    "get": "trove_cli.commands.files:get_command",
    "write": "trove_cli.commands.files:write_command",
    "rm": "trove_cli.commands.files:rm_command",
    "tail": "trove_cli.commands.events:tail_command",
    "events": "trove_cli.commands.events:events_group",
    "keys": "trove_cli.commands.keys:keys_group",
    "webhooks": "trove_cli.commands.webhooks:webhooks_group",
    "snapshot": "trove_cli.commands.snapshot:snapshot_group",
    "namespaces": "trove_cli.commands.namespaces:namespaces_group",
    "mcp": "trove_cli.commands.mcp:mcp_group",
    "completion": "trove_cli.commands.completion:completion_command",
}

EXTRA_HINT = "the trove command needs the CLI extra: pip install 'trove-sdk[cli]'"


def version() -> str:
    """The kit's version, read from ``trove_sdk/_version.py`` without importing ``trove_sdk``
    (whose ``__init__`` pulls in httpx)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(root, "trove_sdk", "_version.py"), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("__version__"):
                    return line.partition("=")[2].strip().strip("\"'")
    except OSError:
        pass
    from trove_sdk._version import __version__

    return __version__


def __getattr__(name: str) -> object:
    # ``from trove_cli.main import cli`` keeps working without importing click up front.
    if name == "cli":
        from trove_cli.root import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _force_utf8() -> None:
    """✓, → and … must never crash a cp1252 console: garble instead."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(encoding="utf-8", errors="replace")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        sys.stdout.write(f"trove, version {version()}\n")
        return
    try:
        import click  # noqa: F401 — probe for the extra before building anything
    except ImportError:
        sys.stderr.write(EXTRA_HINT + "\n")
        raise SystemExit(1) from None
    _force_utf8()
    from trove_cli.root import cli

    cli.main(args=args, prog_name="trove")
