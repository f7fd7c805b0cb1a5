"""``trove_sdk.__all__`` is the public API: pinned, sorted, and every name says ``trove_sdk``."""

from __future__ import annotations

import trove_sdk

EXPECTED = {
    "API_VERSION", "DEFAULT_BASE_URL", "DEFAULT_TOLERANCE_SECONDS", "EVENT_TYPES", "SAMPLE_DATA",
    "SIGNATURE_HEADER", "UNCHANGED", "AsyncTroveAdminClient", "AsyncTroveAuth", "AsyncTroveClient",
    "BytesContent", "Delivery", "DeliveryPage", "DeviceCode", "DeviceLoginError",
    "DeviceLoginResult", "DownloadResult", "Event", "EventPage", "EventParseError",
    "ExecCompleted", "ExecCompletedData", "ExecResult", "FileContent", "FileDeleted",
    "FileDeletedData", "FileInfo", "FileResult", "FileWritten", "FileWrittenData", "Identity",
    "KeyCreated", "KeyCreatedData", "KeyCreatedEvent", "KeyMetadata", "KeyRevoked",
    "KeyRevokedData", "ListResult", "NamespaceDeleted", "NamespaceDeletedData", "NamespaceInfo",
    "ReplayResult", "SecretRotation", "Snapshot", "SnapshotCreated", "SnapshotCreatedData",
    "SnapshotDeleted", "SnapshotDeletedData", "SnapshotRestored", "SnapshotRestoredData",
    "StreamedEvent", "TroveAdminClient", "TroveAuth", "TroveAuthError", "TroveClient",
    "TroveConnectionError", "TroveError", "TroveExecError", "TroveNotFoundError",
    "TroveRateLimitError", "TroveServerError", "TroveTimeoutError", "UnknownEvent",
    "VerifiedDelivery", "WebhookCreated", "WebhookEvent", "WebhookMetadata",
    "WebhookSignatureError", "WebhookTest", "WebhookTestData", "WebhookTestResult",
    "WebhookVerifier", "WorkspaceBootstrap", "WorkspaceCreated", "WorkspaceCreatedData",
    "WorkspaceCreatedEvent", "__version__", "compute_signature", "parse_event", "sample_event",
    "sign_webhook", "suggest_event_type", "verify_webhook",
}  # fmt: skip


def test_all_is_exactly_the_pinned_public_api() -> None:
    assert set(trove_sdk.__all__) == EXPECTED


def test_all_is_sorted_and_has_no_duplicates() -> None:
    assert trove_sdk.__all__ == sorted(set(trove_sdk.__all__), key=lambda n: (not n.isupper(), n))


def test_every_exported_class_and_function_reports_the_public_module() -> None:
    for name in trove_sdk.__all__:
        member = getattr(trove_sdk, name)
        if isinstance(member, type) or callable(member):
            assert member.__module__ == "trove_sdk", name


def test_the_07x_names_still_import() -> None:
    """Code written against trove-sdk 0.7.6 keeps importing."""
    from trove_sdk import (  # noqa: F401
        AsyncTroveAdminClient,
        AsyncTroveClient,
        BytesContent,
        ExecResult,
        FileContent,
        FileInfo,
        FileResult,
        KeyCreated,
        KeyMetadata,
        ListResult,
        Snapshot,
        TroveAdminClient,
        TroveClient,
        WebhookCreated,
        WebhookEvent,
        WebhookMetadata,
        WebhookSignatureError,
        WebhookTestResult,
        verify_webhook,
    )


def test_the_package_ships_its_type_marker() -> None:
    from importlib.resources import files

    assert files("trove_sdk").joinpath("py.typed").is_file()
