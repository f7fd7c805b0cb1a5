"""What MCP tests share besides fixtures: the session factory's type, reading results."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from mcp import Client
from mcp.types import CallToolResult, TextContent

__all__ = ["PLATFORMS", "Connect", "text_of"]

PLATFORMS = ["darwin", "win32", "linux"]

# ``async with connect() as client`` (the ``connect`` fixture).
Connect = Callable[..., AbstractAsyncContextManager[Client]]


def text_of(result: CallToolResult) -> str:
    """Every text block of a result, joined by newlines."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))
