"""``trove-mcp`` / ``python -m trove_mcp``: run the server over stdio (or streamable HTTP).

stdout belongs to the protocol on stdio, so everything this module says goes to stderr.
Exit codes: 0 after a clean shutdown, 2 for configuration that cannot work (missing
``TROVE_API_KEY``/``TROVE_NAMESPACE``, an unknown profile), 1 when the ``mcp`` package is
not installed.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["build_parser", "main"]

MISSING_EXTRA = (
    "trove-mcp needs the MCP extra: pip install 'trove-sdk[mcp]' (the `mcp` package is missing)"
)
DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trove-mcp",
        description="Serve one Trove namespace to an MCP client. Configuration comes from "
        "TROVE_API_KEY, TROVE_NAMESPACE and TROVE_BASE_URL, or from a saved CLI profile.",
    )
    parser.add_argument("--profile", metavar="NAME", help="use this `trove login` profile")
    parser.add_argument("-n", "--namespace", metavar="NS", help="namespace (overrides the rest)")
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (127.0.0.1)")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"HTTP port ({DEFAULT_PORT})"
    )
    return parser


def port_number(text: str) -> int:
    """A port to listen on, checked here: past 65535 the socket layer fails with a traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 1 and 65535")
    return port


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = build_parser().parse_args(argv)
    run(
        profile=args.profile,
        namespace=args.namespace,
        http=args.http,
        host=args.host,
        port=args.port,
    )


def run(
    *,
    profile: str | None = None,
    namespace: str | None = None,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
) -> None:
    """Load the settings, build the server and serve until the client goes away."""
    from trove_mcp.settings import SettingsError, load_settings

    try:
        settings = load_settings(profile=profile, namespace=namespace)
    except SettingsError as exc:
        sys.stderr.write(f"trove-mcp: {exc}\n")
        raise SystemExit(2) from None
    try:
        from trove_mcp.server import create_server
    except ImportError as exc:
        if (getattr(exc, "name", None) or "").split(".")[0] != "mcp":
            raise
        sys.stderr.write(MISSING_EXTRA + "\n")
        raise SystemExit(1) from None
    server = create_server(settings)
    try:
        if http:
            sys.stderr.write(
                f"trove-mcp: namespace {settings.namespace} at http://{host}:{port}/mcp\n"
            )
            if host not in LOOPBACK:
                # The endpoint has no authentication of its own: it acts with the API key.
                sys.stderr.write(
                    f"trove-mcp: warning: anyone who can reach {host}:{port} can use this "
                    "workspace with its key; prefer 127.0.0.1 behind an authenticating proxy\n"
                )
            server.run("streamable-http", host=host, port=port)
        else:
            server.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
