"""A progress bar for big transfers: on stderr, only on a terminal, only past 1 MiB.

``rich`` is imported here and only when a bar is actually drawn, so ``put`` of a small file —
or any transfer in a pipeline or CI log — never pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, Any

from trove_cli.output import Stream, colour_enabled

__all__ = ["BAR_THRESHOLD", "ProgressReader", "transfer_progress"]

BAR_THRESHOLD = 1 << 20

Callback = Callable[[int, "int | None"], None]


@contextmanager
def transfer_progress(
    stream: Stream, label: str, *, threshold: int = BAR_THRESHOLD
) -> Iterator[Callback | None]:
    """Yields a ``progress(done, total)`` callback (None off a terminal). The bar appears
    on the first call that shows the transfer is over ``threshold``; smaller ones never
    import rich."""
    if not stream.isatty:
        yield None
        return
    with ExitStack() as stack:
        state: dict[str, Any] = {}

        def update(done: int, total: int | None) -> None:
            if "bar" not in state:
                if (total if total is not None else done) <= threshold:
                    return
                state["bar"] = stack.enter_context(_rich_bar(stream))
                state["task"] = state["bar"].add_task(label, total=total)
            state["bar"].update(state["task"], completed=done, total=total)

        yield update


def _rich_bar(stream: Stream) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=stream.file, no_color=not colour_enabled(stream.file))
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


class ProgressReader:
    """A binary file that reports how much has been read, for streamed uploads.

    It forwards ``fileno``/``tell``/``seek`` so the SDK can still size the body and rewind it
    for a retry.
    """

    def __init__(self, file: IO[bytes], progress: Callback, total: int | None) -> None:
        self._file = file
        self._progress = progress
        self._total = total
        self._start = file.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._progress(self._file.tell() - self._start, self._total)
        return chunk

    def fileno(self) -> int:
        return self._file.fileno()

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)
