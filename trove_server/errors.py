"""Every error answer is ``{"detail": "<what was wrong>"}`` (CONTRACT §3.1, D3).

ApiError                 raised by routes and the modules below them; carries the status
├── BadRequest           400 — a header or parameter the route cannot work with
├── Unauthorized         401 — missing, unknown or revoked key
├── Forbidden            403 — the key may not do this (kind, namespace, workspace)
├── NotFound             404
├── Conflict             409 — the path or resource is in the wrong state (a directory, a link)
├── PayloadTooLarge      413
├── Unprocessable        422 — malformed JSON, a missing or mistyped field
├── Unavailable          503 — shutting down
└── InsufficientStorage  507 — the server's disk is full

Starlette's own ``HTTPException`` (unknown route 404, wrong method 405) gets the same body
shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InsufficientStorage",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
    "error_response",
    "exception_handlers",
]


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class Unprocessable(ApiError):
    status = 422


class Unavailable(ApiError):
    status = 503


class InsufficientStorage(ApiError):
    status = 507


_STARLETTE_DETAILS = {
    404: "Not Found: no such route",
    405: "Method Not Allowed",
}


def error_response(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers=dict(headers or {}))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.detail, exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if exc.status_code in _STARLETTE_DETAILS:
        detail = f"{_STARLETTE_DETAILS[exc.status_code]} ({request.method} {request.url.path})"
    return error_response(exc.status_code, str(detail), exc.headers)


def exception_handlers() -> dict[object, object]:
    """Handlers for the errors routes raise on purpose; anything else becomes a 500 in
    ``middleware/request_id.py``, which logs it with the request id."""
    return {ApiError: _api_error, HTTPException: _http_exception}
