"""The ``trove_orient`` prompt: the bootstrap block, for a user to drop into a conversation.

Clients show prompts as slash commands (``/trove_orient`` in Claude Desktop): a person can
seed a new conversation with the workspace's state, or ask the model to re-orient mid-way.
"""

from __future__ import annotations

from mcp import MCPError
from mcp.server.mcpserver.prompts import Prompt
from mcp.types import INTERNAL_ERROR

from trove_mcp.errors import describe
from trove_mcp.workspace import WorkspaceContext
from trove_sdk import TroveError

__all__ = ["PROMPTS", "trove_orient"]


async def trove_orient(ctx: WorkspaceContext) -> str:
    """The Trove workspace now: recent files, init.sh, the last session's hand-off note."""
    try:
        boot = await ctx.request_context.lifespan_context.client.bootstrap()
    except TroveError as exc:
        # A prompt has no is_error channel, and any other exception reaches the host as a
        # bare "Internal server error": an MCPError is forwarded with its message intact.
        raise MCPError(
            code=INTERNAL_ERROR, message=f"could not read the Trove workspace: {describe(exc)}"
        ) from exc
    return boot.as_system_prompt_block()


PROMPTS: tuple[Prompt, ...] = (
    Prompt.from_function(trove_orient, title="Trove workspace orientation"),
)
