"""Every error ``trove_sdk`` raises.

TroveError                      message, status_code, request_id
├── TroveAuthError              401, 403 — bad, revoked or out-of-scope key
├── TroveNotFoundError          404
├── TroveTimeoutError           408, 504, or the client's own timeout expired
├── TroveRateLimitError         429
├── TroveServerError            any other 5xx
├── TroveConnectionError        no HTTP answer at all (DNS, refused, reset)
├── TroveExecError              ``exec(check=True)``: HTTP 200 but the command exited non-zero
├── WebhookSignatureError       ``verify_webhook``: any malformed, forged or stale delivery
└── EventParseError             ``parse_event``: a dict that is not a Trove event envelope

Any non-2xx status without a more specific class (400, 409, 413, 422, ...) raises a plain
``TroveError``. The status table is data (``STATUS_ERRORS``) so the CLI's exit-code map and the
tests read the same source.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

__all__ = [
    "STATUS_ERRORS",
    "EventParseError",
    "TroveAuthError",
    "TroveConnectionError",
    "TroveError",
    "TroveExecError",
    "TroveNotFoundError",
    "TroveRateLimitError",
    "TroveServerError",
    "TroveTimeoutError",
    "WebhookSignatureError",
    "error_from_response",
]


class TroveError(Exception):
    """Base class: ``status_code`` is the HTTP status, or None for client-side errors."""

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        *,
        request_id: str | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        # The server's ``detail`` exactly as sent (a string, or a validation list).
        self.detail = message if detail is None else detail

    def __str__(self) -> str:
        # Servers often quote the id in the detail already; say it once.
        if self.request_id and self.request_id not in self.message:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class TroveAuthError(TroveError):
    """401 / 403 — bad or revoked key, or a scope/namespace the key may not use."""


class TroveNotFoundError(TroveError):
    """404 — file, snapshot, key, webhook or route not found."""


class TroveTimeoutError(TroveError):
    """408 / 504, or the client-side timeout expired (then ``status_code`` is None)."""


class TroveRateLimitError(TroveError):
    """429 — too many requests; ``retry_after`` holds the server's hint in seconds, if any."""

    retry_after: float | None = None


class TroveServerError(TroveError):
    """5xx — a failure on the server side."""


class TroveConnectionError(TroveError):
    """The request got no HTTP answer: refused, reset, DNS failure."""


class TroveExecError(TroveError):
    """A command ran but exited non-zero (raised by ``exec(..., check=True)``).

    The HTTP request succeeded, so ``status_code`` is None; ``exit_code`` is the shell's.
    """

    def __init__(self, command: str, exit_code: int, stdout: str, stderr: str) -> None:
        snippet = stderr.strip() or stdout.strip() or "<no output>"
        if len(snippet) > 200:
            snippet = snippet[:200] + "…"
        super().__init__(f"command failed (exit {exit_code}): {snippet}")
        self.command = command
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


SignatureFailure = Literal["header", "tolerance", "mismatch", "body"]


class WebhookSignatureError(TroveError):
    """A webhook delivery failed verification.

    ``reason`` names the failed check — ``header`` (missing or malformed
    ``X-Trove-Signature``), ``tolerance`` (timestamp outside the window), ``mismatch`` (no
    signature matches any secret) or ``body`` (signed, but not a Trove event) — so receivers
    can count failures by kind without parsing messages.
    """

    def __init__(self, message: str, reason: SignatureFailure = "header") -> None:
        super().__init__(message)
        self.reason: SignatureFailure = reason


class EventParseError(TroveError):
    """A mapping that is not a valid Trove event envelope (names the offending field)."""


STATUS_ERRORS: dict[int, type[TroveError]] = {
    401: TroveAuthError,
    403: TroveAuthError,
    404: TroveNotFoundError,
    408: TroveTimeoutError,
    429: TroveRateLimitError,
    504: TroveTimeoutError,
}


def error_from_response(response: httpx.Response) -> TroveError:
    """The most specific ``TroveError`` for a non-2xx response (message from ``detail``)."""
    detail: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body["detail"] if isinstance(body, dict) and "detail" in body else response.text
    message = detail if isinstance(detail, str) else _describe_detail(detail)
    if not message:
        message = f"HTTP {response.status_code}"
    status = response.status_code
    cls = STATUS_ERRORS.get(status) or (TroveServerError if status >= 500 else TroveError)
    request_id = response.headers.get("x-request-id")
    error = cls(message, status, request_id=request_id, detail=detail)
    if isinstance(error, TroveRateLimitError):
        from trove_sdk._retry import parse_retry_after

        error.retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error


def _describe_detail(detail: Any) -> str:
    """Flatten a FastAPI-style validation list into one readable line."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)
