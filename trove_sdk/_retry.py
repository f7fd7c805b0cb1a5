"""When to retry a request, and how long to wait.

Connection failures that happen before the request left are retried for every call — nothing
reached the server. A retryable status (408, 429, 502, 503, 504) or a failure after sending is
retried only for idempotent calls (reads, ``write``, ``upload``, ``delete``, listings): retrying
``exec`` or a create could run or mint twice. Backoff is exponential with full jitter, and a
server's ``Retry-After`` wins when it asks for longer — unless it asks for more than
``MAX_RETRY_AFTER``, in which case the error is raised rather than blocking the caller.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

__all__ = ["RETRYABLE_STATUS", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUS = frozenset({408, 429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0

# Raised before any byte of the request reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def delay_after_response(
        self, response: httpx.Response, *, attempt: int, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after ``response``, or None to give up."""
        if attempt >= self.max_retries or not idempotent:
            return None
        if response.status_code not in RETRYABLE_STATUS:
            return None
        hint = parse_retry_after(response.headers.get("retry-after"))
        if hint is not None and hint > MAX_RETRY_AFTER:
            return None
        return max(hint or 0.0, self._backoff(attempt))

    def delay_after_error(
        self, error: httpx.TransportError, *, attempt: int, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, _NOT_SENT) or idempotent:
            return self._backoff(attempt)
        return None
