"""Where every byte the CLI prints goes.

Data — the thing a command was asked for: listings, file contents, JSON, a created key —
goes to stdout, so ``trove ls --json | jq`` and ``trove cat f > copy`` just work. Banners,
progress, warnings, hints and errors go to stderr. Colour is used only when the stream is a
terminal and ``NO_COLOR`` is unset (https://no-color.org), decided per stream, per call: a
command piped into ``less`` keeps its coloured warnings on the terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO, Any, Literal

import click

__all__ = ["Output", "Stream", "colour_enabled"]


def colour_enabled(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Stream:
    """One output stream (a "console"): resolved at each call, so click's test runner and
    redirections made after start-up are honoured."""

    def __init__(self, name: Literal["stdout", "stderr"]) -> None:
        self.name = name

    @property
    def file(self) -> IO[str]:
        return sys.stdout if self.name == "stdout" else sys.stderr

    @property
    def colour(self) -> bool:
        return colour_enabled(self.file)

    @property
    def isatty(self) -> bool:
        try:
            return self.file.isatty()
        except (AttributeError, ValueError):
            return False

    def style(self, text: str, **styles: Any) -> str:
        """``text`` with click styles (``fg``, ``bold``, ``dim``) when colour is on."""
        styles = {k: v for k, v in styles.items() if v is not None}
        return click.style(text, **styles) if styles and self.colour else text

    def line(self, text: str = "", **styles: Any) -> None:
        self.write(self.style(text, **styles) + "\n")

    def write(self, text: str) -> None:
        file = self.file
        file.write(text)
        file.flush()

    @property
    def binary(self) -> IO[bytes]:
        """The byte stream beneath (``get --stdout``); text written so far is flushed first."""
        file = self.file
        file.flush()
        return file.buffer  # type: ignore[attr-defined,no-any-return]


class Output:
    """The two streams plus the shapes commands print."""

    def __init__(self) -> None:
        self.out = Stream("stdout")
        self.err = Stream("stderr")

    # --- data (stdout) -------------------------------------------------------------------

    def json(self, value: Any, *, compact: bool = False) -> None:
        """One line of JSON on stdout (``compact`` drops the spaces, for JSON lines)."""
        separators = (",", ":") if compact else None
        self.out.line(json.dumps(value, separators=separators, ensure_ascii=False))

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        right: Sequence[int] = (),
        max_width: int = 40,
    ) -> None:
        """Columns sized to their content (capped at ``max_width``; the last is never cut)."""
        widths = [len(h) for h in headers]
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                widths[i] = min(max(widths[i], len(cell)), max_width)

        def render(cells: Sequence[str]) -> str:
            parts = []
            for i, cell in enumerate(cells):
                if i == len(cells) - 1:
                    parts.append(cell)
                    continue
                if len(cell) > widths[i]:
                    cell = cell[: widths[i] - 1] + "…"
                parts.append(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]))
            return "  ".join(parts).rstrip()

        self.out.line(render(headers), bold=True)
        for row in rows:
            self.out.line(render(row))

    def result(self, text: str, *, fg: str | None = "green") -> None:
        """What a command did (``wrote …``, ``revoked …``): stdout, coloured on a terminal."""
        self.out.line(text, fg=fg)

    # --- everything else (stderr) --------------------------------------------------------

    def info(self, text: str) -> None:
        self.err.line(text)

    def note(self, text: str) -> None:
        self.err.line(text, fg="bright_black")

    def warn(self, text: str) -> None:
        self.err.line(text, fg="yellow")

    def error(self, text: str) -> None:
        self.err.line(text, fg="red")
