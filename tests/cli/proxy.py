"""A real reverse proxy in front of the real server that hides some routes (404), to run the
CLI against "an older server" — one without the event stream — for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


class HidingProxy:
    """ASGI: forwards every request to ``upstream`` except those ``hide(path)`` picks."""

    def __init__(self, upstream: str, hide: Callable[[str], bool]) -> None:
        self.upstream = upstream
        self.hide = hide
        self.hidden: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if self.hide(path):
            self.hidden.append(path)
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"detail": "Not Found"}'})
            return
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k != b"host"]
        url = (
            self.upstream
            + path
            + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
        )
        async with httpx.AsyncClient() as client:
            response = await client.request(scope["method"], url, headers=headers, content=body)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (k.encode(), v.encode())
                    for k, v in response.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.content})
