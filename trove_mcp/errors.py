"""How failures reach the model: as tool errors (``is_error``) it can read and act on.

Every tool body runs inside ``tool_errors()``. It turns what the SDK raises into the
``mcp`` SDK's ``ToolError`` — the one exception whose message the model sees (anything else
is treated as a crash and reduced to "Error executing tool"):

    TroveError (any HTTP status)   → "HTTP <status>: <server's message>" plus a hint
    TroveConnectionError / timeout → "could not reach …" plus what to check
    PathError, ValueError          → the message (bad arguments: a path outside the
                                     workspace, stdin over 1 MiB, invalid base64)

Nothing here ever includes the API key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError

from trove_sdk import (
    TroveAuthError,
    TroveConnectionError,
    TroveError,
    TroveNotFoundError,
    TroveRateLimitError,
    TroveTimeoutError,
)

__all__ = ["ToolError", "describe", "tool_errors"]

_HINTS: dict[type[TroveError], str] = {
    TroveNotFoundError: "check the path with trove_list",
    TroveAuthError: (
        "the API key in this MCP server's configuration was refused; ask the user to "
        "re-run `trove mcp install` (or fix TROVE_API_KEY / TROVE_NAMESPACE)"
    ),
}


def describe(exc: TroveError) -> str:
    """One readable line (or two) for a failed Trove call."""
    if isinstance(exc, TroveTimeoutError):
        if exc.status_code is None:
            return f"{exc}; the Trove server did not answer in time — try again shortly"
        return (
            f"HTTP {exc.status_code}: {exc}. Each trove_exec call has a 30 s wall clock: split "
            "the work into shorter steps (state persists only in workspace/ files)"
        )
    if isinstance(exc, TroveConnectionError):
        return f"{exc}; is the Trove server running and TROVE_BASE_URL right?"
    message = str(exc) if exc.status_code is None else f"HTTP {exc.status_code}: {exc}"
    if isinstance(exc, TroveRateLimitError) and exc.retry_after:
        return f"{message} (retry after {exc.retry_after:g} s)"
    for kind, hint in _HINTS.items():
        if isinstance(exc, kind):
            return f"{message} ({hint})"
    return message


@contextmanager
def tool_errors() -> Iterator[None]:
    """Re-raise SDK and argument errors as ``ToolError`` with a message the model can use."""
    try:
        yield
    except ToolError:
        raise
    except TroveError as exc:
        raise ToolError(describe(exc)) from exc
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
