"""``python -m trove_sdk.mcp.server``: the command trove-sdk 0.7–0.10 wrote into MCP client
configs (Claude Desktop, Cursor). Kept so those configs keep working after an upgrade; it runs
``trove_mcp`` (``trove mcp install`` writes the new command).

The import is dynamic so ``trove_sdk`` itself still depends on nothing but httpx.
"""

from __future__ import annotations

import importlib
import sys


def main() -> None:
    try:
        entry = importlib.import_module("trove_mcp.__main__")
    except ImportError:
        sys.stderr.write("the Trove MCP server needs the MCP extra: pip install 'trove-sdk[mcp]'\n")
        raise SystemExit(1) from None
    entry.main()


if __name__ == "__main__":
    main()
