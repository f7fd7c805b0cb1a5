"""Trove: persistent files and real shell commands for AI agents, isolated per namespace.

from trove_sdk import TroveClient

with TroveClient(api_key, "alice") as trove:
    trove.write("workspace/notes.md", "# plan")
    print(trove.exec_detailed("wc -c workspace/notes.md").stdout)
"""

import contextlib

from trove_sdk._admin import UNCHANGED, AsyncTroveAdminClient, TroveAdminClient
from trove_sdk._auth import AsyncTroveAuth, DeviceLoginError, TroveAuth
from trove_sdk._client import AsyncTroveClient, TroveClient
from trove_sdk._config import DEFAULT_BASE_URL
from trove_sdk._events import (
    API_VERSION,
    EVENT_TYPES,
    Event,
    ExecCompleted,
    ExecCompletedData,
    FileDeleted,
    FileDeletedData,
    FileWritten,
    FileWrittenData,
    KeyCreatedData,
    KeyRevoked,
    KeyRevokedData,
    NamespaceDeleted,
    NamespaceDeletedData,
    SnapshotCreated,
    SnapshotCreatedData,
    SnapshotDeleted,
    SnapshotDeletedData,
    SnapshotRestored,
    SnapshotRestoredData,
    UnknownEvent,
    WebhookTest,
    WebhookTestData,
    WorkspaceCreatedData,
    parse_event,
    suggest_event_type,
)
from trove_sdk._events import KeyCreated as KeyCreatedEvent
from trove_sdk._events import WorkspaceCreated as WorkspaceCreatedEvent
from trove_sdk._exceptions import (
    EventParseError,
    TroveAuthError,
    TroveConnectionError,
    TroveError,
    TroveExecError,
    TroveNotFoundError,
    TroveRateLimitError,
    TroveServerError,
    TroveTimeoutError,
    WebhookSignatureError,
)
from trove_sdk._feed import EventPage, StreamedEvent
from trove_sdk._models import (
    BytesContent,
    Delivery,
    DeliveryPage,
    DeviceCode,
    DeviceLoginResult,
    DownloadResult,
    ExecResult,
    FileContent,
    FileInfo,
    FileResult,
    Identity,
    KeyCreated,
    KeyMetadata,
    ListResult,
    NamespaceInfo,
    ReplayResult,
    SecretRotation,
    Snapshot,
    WebhookCreated,
    WebhookMetadata,
    WebhookTestResult,
    WorkspaceBootstrap,
    WorkspaceCreated,
)
from trove_sdk._samples import SAMPLE_DATA, sample_event
from trove_sdk._signing import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    VerifiedDelivery,
    WebhookVerifier,
    compute_signature,
    sign_webhook,
    verify_webhook,
)
from trove_sdk._version import __version__

# The envelope type 0.7.x returned from verify_webhook; every typed event is one.
WebhookEvent = Event

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_TOLERANCE_SECONDS",
    "EVENT_TYPES",
    "SAMPLE_DATA",
    "SIGNATURE_HEADER",
    "UNCHANGED",
    "AsyncTroveAdminClient",
    "AsyncTroveAuth",
    "AsyncTroveClient",
    "BytesContent",
    "Delivery",
    "DeliveryPage",
    "DeviceCode",
    "DeviceLoginError",
    "DeviceLoginResult",
    "DownloadResult",
    "Event",
    "EventPage",
    "EventParseError",
    "ExecCompleted",
    "ExecCompletedData",
    "ExecResult",
    "FileContent",
    "FileDeleted",
    "FileDeletedData",
    "FileInfo",
    "FileResult",
    "FileWritten",
    "FileWrittenData",
    "Identity",
    "KeyCreated",
    "KeyCreatedData",
    "KeyCreatedEvent",
    "KeyMetadata",
    "KeyRevoked",
    "KeyRevokedData",
    "ListResult",
    "NamespaceDeleted",
    "NamespaceDeletedData",
    "NamespaceInfo",
    "ReplayResult",
    "SecretRotation",
    "Snapshot",
    "SnapshotCreated",
    "SnapshotCreatedData",
    "SnapshotDeleted",
    "SnapshotDeletedData",
    "SnapshotRestored",
    "SnapshotRestoredData",
    "StreamedEvent",
    "TroveAdminClient",
    "TroveAuth",
    "TroveAuthError",
    "TroveClient",
    "TroveConnectionError",
    "TroveError",
    "TroveExecError",
    "TroveNotFoundError",
    "TroveRateLimitError",
    "TroveServerError",
    "TroveTimeoutError",
    "UnknownEvent",
    "VerifiedDelivery",
    "WebhookCreated",
    "WebhookEvent",
    "WebhookMetadata",
    "WebhookSignatureError",
    "WebhookTest",
    "WebhookTestData",
    "WebhookTestResult",
    "WebhookVerifier",
    "WorkspaceBootstrap",
    "WorkspaceCreated",
    "WorkspaceCreatedData",
    "WorkspaceCreatedEvent",
    "__version__",
    "compute_signature",
    "parse_event",
    "sample_event",
    "sign_webhook",
    "suggest_event_type",
    "verify_webhook",
]

# Reprs and docs say trove_sdk.TroveClient, not trove_sdk._client.TroveClient.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "trove_sdk"
del _name, _obj
