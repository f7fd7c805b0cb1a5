"""The server's one long-lived resource: an SDK client bound to the namespace.

``lifespan(settings)`` is what ``create_server`` hands to ``MCPServer``: it opens one
``AsyncTroveClient`` (one connection pool) when the server starts and closes it when the
server stops; tools reach it as ``ctx.request_context.lifespan_context.client``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from trove_mcp.settings import Settings
from trove_sdk import AsyncTroveClient

__all__ = ["Workspace", "WorkspaceContext", "lifespan"]


@dataclass(frozen=True)
class Workspace:
    """What every tool call shares."""

    client: AsyncTroveClient
    settings: Settings


# What a tool declares to receive the request context (kept out of its input schema).
WorkspaceContext = Context[Workspace]


def lifespan(settings: Settings) -> Callable[[Any], AbstractAsyncContextManager[Workspace]]:
    @asynccontextmanager
    async def run(_server: Any) -> AsyncIterator[Workspace]:
        # The SDK retries only safe calls (never exec), so its default retry policy stays.
        client = AsyncTroveClient(
            settings.api_key,
            settings.namespace,
            base_url=settings.base_url,
            timeout=settings.timeout,
        )
        try:
            yield Workspace(client, settings)
        finally:
            await client.aclose()

    return run
