"""An incremental parser for ``text/event-stream`` (the WHATWG rules we rely on)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSELineSplitter", "ServerSentEvent"]

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSELineSplitter:
    """Cuts a ``text/event-stream`` body, chunk by chunk, into lines.

    Only CRLF, LF and CR end a line in SSE. ``str.splitlines`` (and httpx's ``iter_lines``,
    built on it) also ends one at U+2028, U+2029, U+0085 and a few control characters, which
    JSON carries unescaped inside strings — a file called ``a\u2028b`` would cut its event in
    two. Splitting the bytes is safe: no multi-byte UTF-8 sequence contains CR or LF.
    """

    def __init__(self) -> None:
        self._partial = b""
        self._after_cr = False  # the last chunk ended in CR: a leading LF belongs to it

    def feed(self, chunk: bytes) -> list[str]:
        data = self._partial + chunk
        if self._after_cr and data.startswith(b"\n"):
            data = data[1:]
        self._after_cr = data.endswith(b"\r")
        *lines, self._partial = _LINE_END.split(data)
        return [line.decode("utf-8", "replace") for line in lines]


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None
    retry: int | None


class SSEDecoder:
    """Feed it lines (without their line ending); it returns an event at each blank line.

    Comment lines (``: keep-alive``) are ignored; ``data`` lines are joined with ``\\n``; an
    ``id`` persists across events as the spec says (it is the resume cursor).
    """

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._retry: int | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            id=self.last_event_id,
            retry=self._retry,
        )
        self._event, self._data, self._retry = "", [], None
        return event
