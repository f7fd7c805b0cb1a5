"""Webhook signatures: ``X-Trove-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``.

``v1`` is the lowercase hex HMAC-SHA256 of ``b"<t>." + raw body`` keyed with the whole signing
secret (``trove-whsec-...`` included). Pure functions over bytes, no I/O. One implementation
serves the server's delivery worker, ``trove webhooks listen``/``trigger`` and every receiver.

Verification is two-sided on the timestamp (``|now - t| <= tolerance``), accepts several ``v1``
entries and several secrets (rotation), compares in constant time, and raises only
``WebhookSignatureError`` — with ``reason`` set to ``header``, ``tolerance``, ``mismatch`` or
``body`` — whatever bytes or header text it is given.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from trove_sdk._events import _ADOPTERS, Event, _adopt_checked
from trove_sdk._exceptions import EventParseError, WebhookSignatureError

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SIGNATURE_HEADER",
    "VerifiedDelivery",
    "WebhookVerifier",
    "compute_signature",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_HEADER = "X-Trove-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
_SCHEME = "v1"
# Unix seconds stay at 10 digits until the year 2286; more digits is garbage, not "stale".
_MAX_TIMESTAMP_DIGITS = 12
_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")

Secrets = str | Sequence[str]


def _keys(secret: Secrets) -> tuple[bytes, ...]:
    secrets: tuple[object, ...] = ()
    if isinstance(secret, str):
        secrets = (secret,)
    elif isinstance(secret, Iterable):
        secrets = tuple(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        # Typically an unset environment variable; the value itself is never echoed.
        got = "None" if secret is None else "nothing usable"
        raise ValueError(
            f"a webhook secret must be a non-empty string (or a list of them), got {got}"
        )
    return tuple(str(s).encode() for s in secrets)


def _to_bytes(body: object) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode()
        except UnicodeEncodeError as exc:
            raise WebhookSignatureError("body is not valid UTF-8 text", "body") from exc
    raise WebhookSignatureError(f"body must be bytes or str, not {type(body).__name__}", "body")


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """The lowercase hex ``v1`` digest of one secret over ``<timestamp>.<body>``."""
    message = b"%d." % timestamp + _to_bytes(body)
    return hmac.digest(secret.encode(), message, "sha256").hex()


def sign_webhook(secret: Secrets, body: bytes | str, *, timestamp: int | None = None) -> str:
    """The ``X-Trove-Signature`` value for ``body``: one ``v1`` per secret, newest first.

    ``timestamp`` defaults to now. Passing two secrets is how a sender signs during a
    rotation's grace window.
    """
    keys = _keys(secret)
    t = int(time.time()) if timestamp is None else int(timestamp)
    message = b"%d." % t + _to_bytes(body)
    parts = [f"t={t}"]
    parts.extend(f"{_SCHEME}={hmac.digest(k, message, 'sha256').hex()}" for k in keys)
    return ",".join(parts)


def _parse_header(header: Any) -> tuple[int, list[str]]:
    if not isinstance(header, str) or not header.strip():
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header", "header")
    timestamp: str | None = None
    signatures: list[str] = []
    for piece in header.split(","):
        key, sep, value = piece.partition("=")
        if not sep:
            continue
        key = key.strip()
        if key == "t":
            timestamp = value.strip()
        elif key == _SCHEME:
            signatures.append(value.strip())
    if timestamp is None:
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} has no t= timestamp", "header")
    if not (
        timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS
    ):
        raise WebhookSignatureError(
            f"{SIGNATURE_HEADER} timestamp is not a whole number of seconds", "header"
        )
    if not signatures:
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} has no v1= signature", "header")
    return int(timestamp), signatures


class VerifiedDelivery(NamedTuple):
    """A verified delivery: the typed event, the signed timestamp and which secret matched.

    (A named tuple rather than a dataclass: it is built once per delivery, on the hot path.)
    """

    event: Event[Any]
    timestamp: int
    secret_index: int


class WebhookVerifier:
    """Verifies deliveries against fixed secrets; keeps the encoded keys between calls.

    Parameters:
        secret: the signing secret, or several during a rotation (any one may match).
        tolerance_seconds: how far the signed timestamp may be from now, either way.
    """

    def __init__(
        self, secret: Secrets, *, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        if tolerance_seconds < 0:
            raise ValueError("tolerance_seconds must not be negative")
        self._keys = _keys(secret)
        # The fast path in verify() serves the usual single secret.
        self._single_key = self._keys[0] if len(self._keys) == 1 else None
        self.tolerance_seconds = tolerance_seconds

    def verify_signature(
        self, body: bytes | str, signature_header: Any, *, now: float | None = None
    ) -> tuple[int, int, bytes]:
        """Check the signature only: ``(timestamp, secret_index, body_bytes)``."""
        timestamp, signatures = _parse_header(signature_header)
        age = int(time.time() if now is None else now) - timestamp
        if age > self.tolerance_seconds or -age > self.tolerance_seconds:
            direction = "old" if age > 0 else "in the future"
            raise WebhookSignatureError(
                f"signature timestamp is {abs(age)}s {direction} "
                f"(tolerance {self.tolerance_seconds}s)",
                "tolerance",
            )
        raw = body if type(body) is bytes else _to_bytes(body)
        message = b"%d." % timestamp + raw
        keys = self._keys
        # compare_digest refuses non-ASCII str; such a candidate cannot match anyway.
        if len(keys) == 1 and len(signatures) == 1:  # the common case, without loop overhead
            candidate = signatures[0]
            expected = hmac.digest(keys[0], message, "sha256").hex()
            if candidate.isascii() and hmac.compare_digest(expected, candidate):
                return timestamp, 0, raw
        else:
            for index, key in enumerate(keys):
                expected = hmac.digest(key, message, "sha256").hex()
                for candidate in signatures:
                    if candidate.isascii() and hmac.compare_digest(expected, candidate):
                        return timestamp, index, raw
        if not any(_HEX_SIGNATURE.fullmatch(s) for s in signatures):
            raise WebhookSignatureError(
                f"{SIGNATURE_HEADER} v1 is not a 64-character hex digest", "header"
            )
        raise WebhookSignatureError("no signature matches the webhook secret", "mismatch")

    def verify(
        self, body: bytes | str, signature_header: Any, *, now: float | None = None
    ) -> VerifiedDelivery:
        """Verify, then parse: the signature is checked before the body is decoded."""
        key, header = self._single_key, signature_header
        # Fast path for what Trove sends — one secret, a bytes body, the canonical
        # ``t=<10 digits>,v1=<64 hex>`` header — inlined because on small deliveries the
        # function calls cost as much as the HMAC. Anything else, and every failure, takes the
        # general path below, which produces the precise error.
        if (
            key is not None
            and type(body) is bytes
            and type(header) is str
            and len(header) == 80
            and header.startswith("t=")
            and header.startswith(",v1=", 12)
        ):
            seconds = header[2:12]
            # One ASCII check covers both the digits and the digest (compare_digest refuses
            # non-ASCII text).
            if header.isascii() and seconds.isdigit():
                timestamp = int(seconds)
                age = int(time.time() if now is None else now) - timestamp
                tolerance = self.tolerance_seconds
                if -tolerance <= age <= tolerance and _compare_digest(
                    _hmac_digest(key, b"%d." % timestamp + body, "sha256").hex(), header[16:]
                ):
                    # tuple.__new__ directly: a NamedTuple's own __new__ is a Python call.
                    return _new_tuple(VerifiedDelivery, (_parse_body(body), timestamp, 0))
        timestamp, index, raw = self.verify_signature(body, header, now=now)
        return VerifiedDelivery(_parse_body(raw), timestamp, index)


# JSON on the wire is UTF-8 (RFC 8259): decoding strictly and calling the decoder's scanner
# directly skips json.loads' encoding sniffing, its 'surrogatepass' decode and the decoder's
# two Python frames and whitespace matches — half of json.loads' time on a small delivery.
# A body the scanner does not take whole (surrounding whitespace, trailing text, no value)
# goes through the full decoder, which accepts the whitespace and words the errors.
_json_decoder = json.JSONDecoder()
_decode_json = _json_decoder.decode
_scan_json: Callable[[str, int], tuple[Any, int]] = _json_decoder.scan_once  # type: ignore[attr-defined]
_new_tuple = tuple.__new__
_compare_digest = hmac.compare_digest
try:
    # What hmac.digest calls for a named OpenSSL digest, without its Python frame: a tenth
    # of the fast path on small deliveries. Same arguments, same result.
    from _hashlib import hmac_digest as _hmac_digest
except ImportError:  # pragma: no cover - a CPython built without OpenSSL
    _hmac_digest = hmac.digest  # type: ignore[assignment]


def _parse_body(raw: bytes) -> Event[Any]:
    """A verified body → its typed event; anything else is a ``body`` failure."""
    try:
        text = raw.decode()
        try:
            payload, end = _scan_json(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            payload = _decode_json(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise WebhookSignatureError(f"body is not valid JSON: {exc}", "body") from exc
    if type(payload) is not dict:
        raise WebhookSignatureError(
            f"body is not a Trove event: an event must be a JSON object, not "
            f"{type(payload).__name__}",
            "body",
        )
    # adopt_event's dispatch, written out: a Python call less on every delivery (~3% at 256 B).
    try:
        adopt = _ADOPTERS[payload["type"]]
    except (KeyError, TypeError):  # no type, or one this version does not know (or a list)
        adopt = _adopt_checked
    try:
        return adopt(payload)
    except EventParseError as exc:
        raise WebhookSignatureError(f"body is not a Trove event: {exc}", "body") from exc


def verify_webhook(
    *,
    secret: Secrets,
    body: bytes | str,
    signature_header: Any,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> Event[Any]:
    """Verify a delivery and return its typed event.

    Pass the raw request body: re-serialised JSON does not match the signature. ``secret`` may
    be a list during a rotation. Raises ``WebhookSignatureError`` (see ``.reason``) for every
    bad input, never ``KeyError``/``ValueError``/``TypeError``.
    """
    # Receivers call this once per delivery with the same secret: keep a few verifiers (their
    # encoded keys) instead of rebuilding one every time.
    try:
        verifier = _recent_verifiers[secret, tolerance_seconds]
    except (KeyError, TypeError):  # not seen yet, or a list of secrets (unhashable)
        verifier = WebhookVerifier(secret, tolerance_seconds=tolerance_seconds)
        if isinstance(secret, str):
            # (clear() rather than evicting one: each dict call is atomic under threads.)
            if len(_recent_verifiers) >= 16:
                _recent_verifiers.clear()
            _recent_verifiers[secret, tolerance_seconds] = verifier
    return verifier.verify(body, signature_header).event


_recent_verifiers: dict[tuple[Secrets, int], WebhookVerifier] = {}
