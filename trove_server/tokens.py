"""Identifiers and secrets the server mints, and how secrets are stored (CONTRACT §1.4).

Secrets (API keys, device codes, session tokens) are kept only as a SHA-256 digest; the
plaintext is shown once. Webhook signing secrets are the exception: signing needs them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "KEY_PREFIX_CHARS",
    "new_api_key",
    "new_delivery_id",
    "new_device_code",
    "new_key_id",
    "new_request_id",
    "new_session_token",
    "new_signing_secret",
    "new_snapshot_id",
    "new_user_code",
    "new_webhook_id",
    "new_workspace_id",
    "same_digest",
    "secret_digest",
]

KEY_PREFIX_CHARS = 12  # ``prefix`` in key metadata: "trove-sk-abc"
# No vowels (no words), no look-alikes (no I, O, U, Y).
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def new_workspace_id() -> str:
    return "ws-" + secrets.token_hex(8)


def new_key_id() -> str:
    return "key-" + secrets.token_hex(6)


def new_api_key() -> str:
    return "trove-sk-" + secrets.token_hex(24)


def new_webhook_id() -> str:
    return "wh-" + secrets.token_hex(6)


def new_signing_secret() -> str:
    return "trove-whsec-" + secrets.token_hex(24)


def new_snapshot_id() -> str:
    return "snap-" + secrets.token_hex(6)


def new_delivery_id() -> str:
    return "dlv-" + secrets.token_hex(8)


def new_device_code() -> str:
    return "trove-dc-" + secrets.token_urlsafe(32)


def new_user_code() -> str:
    letters = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """The stored form of a secret: lowercase hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two stored digests."""
    return hmac.compare_digest(a.encode(), b.encode())
