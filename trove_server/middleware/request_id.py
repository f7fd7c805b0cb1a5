"""``X-Request-Id`` on every response, one access-log line per request, and the last-resort
500 — so even an unexpected error answers ``{"detail": ...}`` with a request id to quote.

The log line holds method, path, status, duration and request id: never headers (keys),
query strings or bodies (file contents). Control characters in the (decoded) path are
escaped, so a request for ``/files/a%0A...`` cannot forge a log line.
"""

from __future__ import annotations

import json
import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trove_server.tokens import new_request_id

__all__ = ["RequestIdMiddleware"]

access_log = logging.getLogger("trove_server.access")
error_log = logging.getLogger("trove_server")

# A caller's own id is echoed only if it is short and plain (it goes into logs and headers).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _loggable(path: str) -> str:
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), path)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _ACCEPTABLE.fullmatch(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.monotonic()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception(
                "unhandled error in %s %s (request id %s)",
                scope.get("method"),
                _loggable(scope.get("path", "")),
                request_id,
            )
            if status:
                raise  # the response already started; nothing sensible can follow
            status = 500
            body = json.dumps(
                {"detail": f"Internal server error (request id {request_id})"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            access_log.info(
                "%s %s %s %.1fms %s",
                scope.get("method"),
                _loggable(scope.get("path", "")),
                status or "-",
                (time.monotonic() - started) * 1000,
                request_id,
            )
