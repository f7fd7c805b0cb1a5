"""verify_webhook / sign_webhook: the vectors, rotation, the window, and every malformed input."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from trove_sdk import (
    FileWritten,
    UnknownEvent,
    WebhookSignatureError,
    WebhookVerifier,
    compute_signature,
    sample_event,
    sign_webhook,
    verify_webhook,
)

SECRET = "trove-whsec-3f9a1c0d5e7b2a4c6e8f0a1b2c3d4e5f"
OLD_SECRET = "trove-whsec-old-0123456789abcdef0123456789abcdef"
NOW = 1777507200
# A copy of the project's shared vectors (shared/vectors/signatures.json), kept in the repo so
# a clean clone tests against them.
VECTORS_FILE = Path(__file__).with_name("vectors") / "signatures.json"


# The project's own copy, beside the repository in a full checkout of the project.
SHARED_VECTORS_FILE = Path(__file__).parents[3] / "shared" / "vectors" / VECTORS_FILE.name


def _vectors() -> list[dict[str, Any]]:
    return json.loads(VECTORS_FILE.read_text())["vectors"]


def test_the_vectors_copy_matches_the_shared_vectors() -> None:
    """The copy drifts silently otherwise: the vectors would pass against a stale file."""
    if not SHARED_VECTORS_FILE.parent.is_dir():
        pytest.skip(f"no shared vectors beside this checkout ({SHARED_VECTORS_FILE.parent})")
    shared = json.loads(SHARED_VECTORS_FILE.read_text())
    assert json.loads(VECTORS_FILE.read_text()) == shared, (
        f"{VECTORS_FILE} differs from {SHARED_VECTORS_FILE}: copy the shared file over it"
    )


def body_of(event_type: str = "file.written", **overrides: Any) -> bytes:
    return json.dumps(sample_event(event_type, **overrides), separators=(",", ":")).encode()


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_shared_signature_vector(vector: dict[str, Any]) -> None:
    verifier = WebhookVerifier(vector["secrets"], tolerance_seconds=vector["tolerance_seconds"])
    body = base64.b64decode(vector["body_b64"])
    if vector["expect"] == "valid":
        delivery = verifier.verify(body, vector["signature_header"], now=vector["now"])
        assert delivery.event.id == vector["event_id"]
    else:
        with pytest.raises(WebhookSignatureError) as info:
            verifier.verify(body, vector["signature_header"], now=vector["now"])
        assert info.value.reason == vector["reason"]


@freeze_time("2026-04-30T00:00:00Z")
def test_round_trip_returns_the_typed_event() -> None:
    body = body_of(event_id="evt-000000000042")
    event = verify_webhook(secret=SECRET, body=body, signature_header=sign_webhook(SECRET, body))
    assert isinstance(event, FileWritten)
    assert event.id == "evt-000000000042"
    assert event.data.path == "workspace/notes/plan.md"
    assert event.data.size_bytes == 1832


@freeze_time("2026-04-30T00:00:00Z")
def test_a_str_body_verifies_like_its_utf8_bytes() -> None:
    body = body_of(data={"path": "workspace/café.txt"})
    header = sign_webhook(SECRET, body)
    event = verify_webhook(secret=SECRET, body=body.decode(), signature_header=header)
    assert event.data.path == "workspace/café.txt"


@pytest.mark.parametrize("padding", [b" ", b"\n", b"\r\n\t "])
@freeze_time("2026-04-30T00:00:00Z")
def test_whitespace_around_the_json_is_still_a_valid_body(padding: bytes) -> None:
    body = padding + body_of(event_id="evt-padded") + padding
    event = verify_webhook(secret=SECRET, body=body, signature_header=sign_webhook(SECRET, body))
    assert event.id == "evt-padded"


@freeze_time("2026-04-30T00:00:00Z")
def test_text_after_the_json_object_is_a_body_error_that_says_so() -> None:
    body = body_of() + b"{}"
    with pytest.raises(WebhookSignatureError, match="Extra data") as info:
        verify_webhook(secret=SECRET, body=body, signature_header=sign_webhook(SECRET, body))
    assert info.value.reason == "body"


def test_sign_webhook_matches_compute_signature() -> None:
    body = b'{"a":1}'
    assert sign_webhook(SECRET, body, timestamp=NOW) == (
        f"t={NOW},v1={compute_signature(SECRET, NOW, body)}"
    )


def test_signing_with_two_secrets_emits_one_v1_per_secret_in_order() -> None:
    header = sign_webhook([SECRET, OLD_SECRET], b"{}", timestamp=NOW)
    parts = header.split(",")
    assert parts[0] == f"t={NOW}"
    assert parts[1:] == [
        f"v1={compute_signature(SECRET, NOW, b'{}')}",
        f"v1={compute_signature(OLD_SECRET, NOW, b'{}')}",
    ]


@freeze_time("2026-04-30T00:00:00Z")
def test_a_receiver_holding_only_the_old_secret_accepts_a_rotation_delivery() -> None:
    body = body_of()
    header = sign_webhook([SECRET, OLD_SECRET], body)
    assert verify_webhook(secret=OLD_SECRET, body=body, signature_header=header).id


@freeze_time("2026-04-30T00:00:00Z")
def test_a_receiver_holding_both_secrets_reports_which_one_matched() -> None:
    body = body_of()
    verifier = WebhookVerifier([SECRET, OLD_SECRET])
    assert verifier.verify(body, sign_webhook(OLD_SECRET, body)).secret_index == 1
    assert verifier.verify(body, sign_webhook(SECRET, body)).secret_index == 0


def test_a_timestamp_exactly_at_the_tolerance_edge_is_accepted() -> None:
    body = body_of()
    with freeze_time("2026-04-30T00:05:00Z"):
        header = sign_webhook(SECRET, body, timestamp=NOW)
        assert verify_webhook(secret=SECRET, body=body, signature_header=header)


def test_verify_rejects_a_timestamp_one_second_too_old() -> None:
    body = body_of()
    header = sign_webhook(SECRET, body, timestamp=NOW)
    with freeze_time("2026-04-30T00:05:01Z"), pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=body, signature_header=header)
    assert info.value.reason == "tolerance"
    assert "301s old" in str(info.value)


def test_verify_rejects_a_timestamp_too_far_in_the_future() -> None:
    body = body_of()
    header = sign_webhook(SECRET, body, timestamp=NOW + 301)
    with freeze_time("2026-04-30T00:00:00Z"), pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=body, signature_header=header)
    assert info.value.reason == "tolerance"
    assert "in the future" in str(info.value)


def test_a_custom_tolerance_narrows_the_window() -> None:
    body = body_of()
    header = sign_webhook(SECRET, body, timestamp=NOW - 11)
    with freeze_time("2026-04-30T00:00:00Z"), pytest.raises(WebhookSignatureError):
        verify_webhook(secret=SECRET, body=body, signature_header=header, tolerance_seconds=10)


@freeze_time("2026-04-30T00:00:00Z")
def test_verify_rejects_a_tampered_body() -> None:
    body = body_of()
    header = sign_webhook(SECRET, body)
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=body.replace(b"plan", b"PLAN"), signature_header=header)
    assert info.value.reason == "mismatch"


@freeze_time("2026-04-30T00:00:00Z")
def test_verify_rejects_the_wrong_secret() -> None:
    body = body_of()
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(
            secret="trove-whsec-other", body=body, signature_header=sign_webhook(SECRET, body)
        )
    assert info.value.reason == "mismatch"


@freeze_time("2026-04-30T00:00:00Z")
def test_an_unknown_event_type_still_verifies_as_unknown_event() -> None:
    body = body_of("agent.dreamed", data={"dream": "electric sheep"})
    event = verify_webhook(secret=SECRET, body=body, signature_header=sign_webhook(SECRET, body))
    assert isinstance(event, UnknownEvent)
    assert event.data == {"dream": "electric sheep"}


# --- malformed input: always WebhookSignatureError, never anything else -----------------------

VALID_SIG = "0" * 64
MALFORMED_HEADERS = [
    None,
    "",
    "   ",
    "garbage",
    ",,,,",
    "=",
    "=,=",
    "t=",
    "v1=",
    f"v1={VALID_SIG}",
    f"t={NOW}",
    f"t={NOW},v1=",
    f"t={NOW},v0={VALID_SIG}",
    f"t=abc,v1={VALID_SIG}",
    f"t={NOW}.5,v1={VALID_SIG}",
    f"t=-{NOW},v1={VALID_SIG}",
    f"t=+{NOW},v1={VALID_SIG}",
    f"t={'9' * 40},v1={VALID_SIG}",
    f"t=١٧٧٧٥٠٧٢٠٠,v1={VALID_SIG}",  # Arabic-Indic digits
    f"t={NOW},v1=abcd",
    f"t={NOW},v1={'z' * 64}",
    f"t={NOW},v1={'é' * 64}",
    f"t={NOW},v1={VALID_SIG}0",
    f"t={NOW};v1={VALID_SIG}",
    f"t {NOW},v1 {VALID_SIG}",
    f"t={NOW},v1={VALID_SIG[:-1]}\x00",
    "\udcff",
    12345,
    b"t=1,v1=00",
]


@pytest.mark.parametrize("header", MALFORMED_HEADERS, ids=repr)
@freeze_time("2026-04-30T00:00:00Z")
def test_a_malformed_header_raises_only_webhook_signature_error(header: Any) -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=body_of(), signature_header=header)
    assert info.value.reason in ("header", "mismatch")
    assert str(info.value)


def _signed(raw: bytes) -> tuple[bytes, str]:
    return raw, sign_webhook(SECRET, raw, timestamp=NOW)


def _envelope(**changes: Any) -> bytes:
    envelope = sample_event("file.written")
    for key, value in changes.items():
        if value is ...:
            envelope.pop(key)
        else:
            envelope[key] = value
    return json.dumps(envelope).encode()


MALFORMED_BODIES = {
    "empty": b"",
    "not json": b"hello",
    "truncated json": b'{"id": "evt-1"',
    "json array": b"[1, 2]",
    "json string": b'"evt"',
    "json null": b"null",
    "invalid utf-8": b'{"id": "\xff\xfe"}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "missing id": _envelope(id=...),
    "missing type": _envelope(type=...),
    "missing api_version": _envelope(api_version=...),
    "missing workspace_id": _envelope(workspace_id=...),
    "missing created_at": _envelope(created_at=...),
    "id not a string": _envelope(id=7),
    "type not a string": _envelope(type=["file.written"]),
    "namespace not a string": _envelope(namespace=3),
    "data not an object": _envelope(data=[1]),
    "data missing a required field": _envelope(data={"size_bytes": 3}),
    "data field of the wrong type": _envelope(data={"path": "workspace/a", "size_bytes": "3"}),
    "data boolean where an integer belongs": _envelope(
        data={"path": "workspace/a", "size_bytes": True}
    ),
}


@pytest.mark.parametrize("raw", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
@freeze_time("2026-04-30T00:00:00Z")
def test_a_signed_body_that_is_not_an_event_raises_a_body_error(raw: bytes) -> None:
    body, header = _signed(raw)
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=body, signature_header=header)
    assert info.value.reason == "body"


def test_a_body_of_the_wrong_python_type_is_a_body_error() -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(secret=SECRET, body=123, signature_header=f"t={NOW},v1={VALID_SIG}")  # type: ignore[arg-type]
    assert info.value.reason in ("body", "tolerance")


def test_an_empty_secret_is_a_configuration_error_not_a_delivery_error() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        WebhookVerifier("")
    with pytest.raises(ValueError):
        WebhookVerifier([])


@pytest.mark.parametrize(
    "call",
    [
        lambda: WebhookVerifier(None),  # type: ignore[arg-type]
        lambda: verify_webhook(secret=None, body=b"{}", signature_header="t=1,v1=00"),  # type: ignore[arg-type]
        lambda: sign_webhook(None, b"{}"),  # type: ignore[arg-type]
    ],
)
def test_a_missing_secret_says_so_instead_of_a_bare_type_error(call: Any) -> None:
    with pytest.raises(ValueError, match=r"secret must be a non-empty string .* got None"):
        call()


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=512), header=st.text(max_size=200))
def test_arbitrary_input_returns_an_event_or_raises_signature_error(
    body: bytes, header: str
) -> None:
    try:
        event = verify_webhook(secret=SECRET, body=body, signature_header=header)
    except WebhookSignatureError:
        return
    assert event.id  # pragma: no cover - only a forged HMAC could reach this


@settings(max_examples=200, deadline=None)
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_validly_signed_json_returns_an_event_or_raises_signature_error(payload: Any) -> None:
    body = json.dumps(payload).encode()
    # An explicit clock, not freezegun: frozen time inside a hypothesis test upsets its own
    # timing and health checks.
    header = sign_webhook(SECRET, body, timestamp=NOW)
    try:
        WebhookVerifier(SECRET).verify(body, header, now=NOW)
    except WebhookSignatureError as exc:
        assert exc.reason == "body"
