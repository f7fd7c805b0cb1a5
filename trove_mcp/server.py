"""``create_server(settings)``: the ``trove`` MCP server for one namespace.

Tools come from the table in ``trove_mcp.tools``, the prompt from ``trove_mcp.prompts``; the
lifespan (``trove_mcp.workspace``) holds one SDK client for the server's life. The
``instructions`` below are what a client puts in front of the model before any tool call:
how this workspace behaves, in the fewest words that prevent the usual mistakes.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from trove_mcp.prompts import PROMPTS
from trove_mcp.settings import Settings
from trove_mcp.tools import TOOLS
from trove_mcp.workspace import Workspace, lifespan
from trove_sdk import __version__

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "create_server"]

SERVER_NAME = "trove"

INSTRUCTIONS = """\
Trove gives you a persistent POSIX workspace for this namespace ({namespace}). Files under \
workspace/ survive between calls and across sessions; nothing else does.

How it behaves:
- Every trove_exec call runs in a fresh bash shell at the namespace root (workspace/ is \
inside it). cd, exported variables and background processes do not carry over to the next \
call: chain steps with && in one command, or put setup (env vars, PATH, a venv) in \
workspace/.trove/init.sh, which is sourced before every command.
- Limits: 30 s wall clock per command, 1 MiB of stdin, 1 MiB of text per trove_read. Put \
big data in files and work on them with the shell (jq, awk, grep, python3, ...).
- Tool paths are relative to the namespace root: workspace/notes.md.

Session routine:
1. On your first turn, call trove_bootstrap: it shows the files, the init.sh prelude and the \
hand-off note the previous session left in workspace/.trove/agent.md.
2. Before ending a substantial session, write a short markdown hand-off to \
workspace/.trove/agent.md with trove_write: what you did, what you learned, what is next.
"""


def create_server(settings: Settings) -> MCPServer[Workspace]:
    """The server, its tools and prompt registered, not yet running.

    Parameters:
        settings: the key, namespace and base URL every tool call uses.
    """
    server: MCPServer[Workspace] = MCPServer(
        SERVER_NAME,
        title="Trove workspace",
        version=__version__,
        instructions=INSTRUCTIONS.format(namespace=settings.namespace),
        website_url="https://trovefiles.dev",
        lifespan=lifespan(settings),
        log_level="WARNING",
    )
    for spec in TOOLS:
        server.add_tool(spec.fn, title=spec.title, annotations=spec.annotations)
    for prompt in PROMPTS:
        server.add_prompt(prompt)
    return server
