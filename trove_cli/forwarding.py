"""Signed deliveries to a receiver of your own, as production sends them (httpx is imported
only when a ``Forwarder`` is built, so ``--help`` stays light).

Shared by ``webhooks listen`` (real events) and ``webhooks trigger`` (samples): the body is
signed with ``trove_sdk.sign_webhook`` at each attempt (a retry minutes later must not arrive
outside the receiver's tolerance window) and carries the D9 headers. The target must be on
this machine unless the user says otherwise, so a typo cannot send live workspace events to
someone else's server.
"""

from __future__ import annotations

import ipaddress
import random
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from trove_cli.config import ProfileNotFound
from trove_cli.errors import CLIError

if TYPE_CHECKING:
    import httpx

    from trove_cli.app import App

__all__ = [
    "DEFAULT_TARGET",
    "Forwarder",
    "Outcome",
    "backoff",
    "check_target",
    "new_secret",
    "parse_headers",
    "resolve_secret",
    "secret_source",
]

DEFAULT_TARGET = "http://localhost:8000/trove/events"
SECRET_ENV = "TROVE_WEBHOOK_SECRET"  # noqa: S105 — the variable's name, not a secret
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 §5.6.2)
_MAX_BACKOFF = 5.0
_MAX_RETRY_AFTER = 60.0


def is_local_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, *, allow_remote: bool) -> str:
    """The forwarding URL, refused unless it is http(s) on this machine (or allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{url!r} is not an http(s) URL with a host", param_hint="--forward-to"
        )
    if not allow_remote and not is_local_host(parts.hostname):
        raise click.BadParameter(
            f"{parts.hostname} is not this machine; events would leave it. Use localhost, "
            "127.0.0.1 or ::1, or pass --allow-remote if you mean it",
            param_hint="--forward-to",
        )
    return url


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """``-H "Name: value"`` options as a mapping; a malformed one is a usage error."""
    headers: dict[str, str] = {}
    for raw in values:
        name, sep, value = raw.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _TOKEN.fullmatch(name):
            raise click.BadParameter(
                f"{raw!r} is not a header; write it as 'Name: value'", param_hint="-H"
            )
        # HTTP/1.1 carries header values as bytes httpx encodes as ASCII: anything else would
        # crash every delivery later instead of being refused here, before anything is sent.
        if not all(c == "\t" or " " <= c <= "~" for c in value):
            raise click.BadParameter(
                f"{raw!r}: a header value must be printable ASCII", param_hint="-H"
            )
        headers[name] = value
    return headers


def new_secret() -> str:
    return "trove-whsec-" + secrets.token_hex(24)


def secret_source(ctx: click.Context, param: str = "secret") -> str:
    """How the secret option got its value, for the banner."""
    source = ctx.get_parameter_source(param)
    return SECRET_ENV if source is click.core.ParameterSource.ENVIRONMENT else "--secret"


def resolve_secret(
    app: App, given: str | None, given_from: str = "--secret", *, create: bool = True
) -> tuple[str, str]:
    """The signing secret and where it came from: ``--secret``/``TROVE_WEBHOOK_SECRET``, else
    the profile's local secret — generated once and saved, so a receiver configured with it
    keeps working across runs."""
    if given:
        return given, given_from
    try:
        profile = app.profile()
    except ProfileNotFound:
        raise CLIError(
            "no signing secret: pass --secret (or set TROVE_WEBHOOK_SECRET), or log in so a "
            "local secret can be kept in your profile"
        ) from None
    secret = app.config.listen_secret(profile)
    if secret is None:
        if not create:
            raise CLIError(f"profile '{profile.name}' has no local signing secret yet")
        secret = new_secret()
        app.config.save_listen_secret(profile, secret)
    return secret, f"local secret of profile '{profile.name}'"


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before retry number ``attempt`` (1-based): 0.1 s doubling to 5 s, jittered;
    a receiver's ``Retry-After`` wins when longer (up to a minute)."""
    delay = min(_MAX_BACKOFF, 0.1 * 2 ** (attempt - 1)) * random.uniform(0.75, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, _MAX_RETRY_AFTER))
    return delay


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt got back."""

    status: int | None
    latency_ms: float
    error: str | None = None
    body: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def reply(self) -> str:
        """The receiver's answer on one line (an HTML error page must not break the one line
        per delivery that scripts read), cut to 200 characters."""
        text = " ".join(self.body.split())
        return text if len(text) <= 200 else text[:199] + "…"

    @property
    def retryable(self) -> bool:
        """Worth sending again: no answer, a 5xx, or "busy" (408/409/425/429). Any other 4xx
        is the receiver's considered refusal (a bad signature, say) — retrying cannot help."""
        if self.status is None:
            return True
        return self.status >= 500 or self.status in _RETRYABLE_STATUS


def _describe(exc: httpx.TransportError) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return str(exc) or type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


class Forwarder:
    """Posts signed event bodies to one URL over one connection pool.

    Parameters:
        url: where deliveries go (checked with ``check_target`` first).
        secret: the signing secret.
        headers: extra headers (``-H``), sent after the D9 ones.
        timeout: seconds per attempt.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        max_connections: int = 16,
    ) -> None:
        import httpx

        from trove_sdk._version import __version__

        self.url = url
        self.secret = secret
        self.extra = dict(headers or {})
        self.user_agent = f"Trove-Webhooks/{__version__}"
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
            follow_redirects=False,
        )

    def headers(
        self, body: bytes, event_type: str, event_id: str, attempt: int, *, skew: int = 0
    ) -> dict[str, str]:
        from trove_sdk import SIGNATURE_HEADER, sign_webhook

        signature = sign_webhook(self.secret, body, timestamp=int(time.time()) + skew)
        return {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            SIGNATURE_HEADER: signature,
            "X-Trove-Event": event_type,
            "X-Trove-Event-Id": event_id,
            "X-Trove-Delivery": "dlv-" + secrets.token_hex(8),
            "X-Trove-Attempt": str(attempt),
            **self.extra,
        }

    async def send(
        self, body: bytes, event_type: str, event_id: str, attempt: int = 1, *, skew: int = 0
    ) -> Outcome:
        import httpx

        headers = self.headers(body, event_type, event_id, attempt, skew=skew)
        started = time.perf_counter()
        try:
            response = await self._http.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            return Outcome(None, elapsed, error=_describe(exc))
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(
            response.status_code,
            elapsed,
            body=response.text[:500],
            retry_after=_retry_after(response),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
