"""Piped input: whether there is any, and its bytes — read with a limit, decoded strictly."""

from __future__ import annotations

import sys

from trove_cli.errors import CLIError

__all__ = ["is_terminal", "read_text"]


def is_terminal() -> bool:
    """True for an interactive terminal (nothing is piped); also when there is no stdin."""
    stream = sys.stdin
    if stream is None:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return True


def read_text(*, limit: int | None = None, what: str = "stdin") -> str:
    """All of stdin as UTF-8 text; more than ``limit`` bytes or bytes that are not UTF-8 are
    refused with a message saying which (nothing beyond ``limit + 1`` bytes is read)."""
    buffer = sys.stdin.buffer
    data = buffer.read() if limit is None else buffer.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise CLIError(f"{what} is over {limit} bytes, the server's limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CLIError(f"{what} is not UTF-8 text (byte {exc.start})") from None
