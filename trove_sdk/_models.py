"""Result types: frozen dataclasses built from server responses.

Parsers (``from_dict``) take only the fields they know, so extra fields a newer server adds are
ignored, and optional fields a server leaves out get their documented defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BytesContent",
    "Delivery",
    "DeliveryPage",
    "DeviceCode",
    "DeviceLoginResult",
    "DownloadResult",
    "ExecResult",
    "FileContent",
    "FileInfo",
    "FileResult",
    "Identity",
    "KeyCreated",
    "KeyMetadata",
    "ListResult",
    "NamespaceInfo",
    "ReplayResult",
    "SecretRotation",
    "Snapshot",
    "WebhookCreated",
    "WebhookMetadata",
    "WebhookTestResult",
    "WorkspaceBootstrap",
    "WorkspaceCreated",
]

_Json = Mapping[str, Any]


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class ExecResult:
    """Structured result of ``exec_detailed`` / ``POST /v1/exec``.

    ``stdout`` and ``stderr`` are separate; ``duration_ms`` is measured by the server.
    ``timed_out`` and the ``*_truncated`` flags come from servers with extension X7.
    """

    exit_code: int
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @classmethod
    def from_dict(cls, d: _Json) -> ExecResult:
        return cls(
            exit_code=int(d["exit_code"]),
            stdout=d.get("stdout") or "",
            stderr=d.get("stderr") or "",
            duration_ms=int(d.get("duration_ms") or 0),
            timed_out=bool(d.get("timed_out", False)),
            stdout_truncated=bool(d.get("stdout_truncated", False)),
            stderr_truncated=bool(d.get("stderr_truncated", False)),
        )

    def as_legacy_text(self) -> str:
        """The legacy ``/exec`` text: stdout on success, else ``[exit N]\\n`` + stderr + stdout."""
        if self.exit_code == 0:
            return self.stdout
        return f"[exit {self.exit_code}]\n{self.stderr}{self.stdout}"


@dataclass(frozen=True)
class FileResult:
    """What ``write`` and ``upload`` report: the stored path (``workspace/...``) and its size."""

    path: str
    size_bytes: int

    @classmethod
    def from_dict(cls, d: _Json) -> FileResult:
        return cls(path=d["path"], size_bytes=int(d["size_bytes"]))


@dataclass(frozen=True)
class FileInfo:
    """One entry of ``list_dir``."""

    name: str
    path: str
    is_dir: bool
    size_bytes: int | None
    modified_at: str

    @classmethod
    def from_dict(cls, d: _Json) -> FileInfo:
        return cls(
            name=d["name"],
            path=d["path"],
            is_dir=bool(d["is_dir"]),
            size_bytes=_opt_int(d.get("size_bytes")),
            modified_at=d["modified_at"],
        )


class ListResult(list[FileInfo]):
    """A ``list[FileInfo]`` with a ``truncated`` flag (the server's listing cap was hit).

    A list subclass so ``for``, ``len`` and indexing work as on a plain list.
    """

    truncated: bool

    def __init__(self, entries: Iterable[FileInfo] = (), *, truncated: bool = False) -> None:
        super().__init__(entries)
        self.truncated = truncated

    @classmethod
    def from_dict(cls, d: _Json) -> ListResult:
        return cls(
            (FileInfo.from_dict(e) for e in d.get("entries") or ()),
            truncated=bool(d.get("truncated", False)),
        )


@dataclass(frozen=True)
class FileContent:
    """``read_file``: metadata plus a text preview (``content`` is None for binary files)."""

    path: str
    size_bytes: int
    modified_at: str
    encoding: str
    content: str | None
    truncated: bool = False

    @classmethod
    def from_dict(cls, d: _Json) -> FileContent:
        return cls(
            path=d["path"],
            size_bytes=int(d["size_bytes"]),
            modified_at=d["modified_at"],
            encoding=d["encoding"],
            content=d.get("content"),
            truncated=bool(d.get("truncated", False)),
        )


@dataclass(frozen=True)
class BytesContent:
    """``read_bytes_full``: raw bytes plus the server's truncation headers."""

    content: bytes
    truncated: bool
    size_bytes: int | None  # the whole file's size (X-Trove-Size); may exceed len(content)


@dataclass(frozen=True)
class DownloadResult:
    """``download``: where the bytes went, how many, and whether the server truncated them."""

    path: str
    bytes_written: int
    size_bytes: int | None
    truncated: bool


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    namespace: str
    label: str | None
    size_bytes: int
    created_at: str

    @classmethod
    def from_dict(cls, d: _Json) -> Snapshot:
        return cls(
            snapshot_id=d["snapshot_id"],
            namespace=d["namespace"],
            label=d.get("label"),
            size_bytes=int(d["size_bytes"]),
            created_at=d["created_at"],
        )


@dataclass(frozen=True)
class Identity:
    """``GET /v1/me``: who a key is."""

    workspace_id: str
    key_id: str = ""
    key_name: str = ""
    scope: str = "workspace"
    namespace: str | None = None
    capabilities: tuple[str, ...] = ()
    isolation: str | None = None  # local server extension: "bwrap" or "none"

    @classmethod
    def from_dict(cls, d: _Json) -> Identity:
        return cls(
            workspace_id=d["workspace_id"],
            key_id=d.get("key_id") or "",
            key_name=d.get("key_name") or "",
            scope=d.get("scope") or "workspace",
            namespace=d.get("namespace"),
            capabilities=tuple(d.get("capabilities") or ()),
            isolation=d.get("isolation"),
        )


@dataclass(frozen=True)
class KeyMetadata:
    key_id: str
    name: str
    prefix: str
    scope: str
    namespace: str | None
    created_at: str

    @classmethod
    def _fields(cls, d: _Json) -> dict[str, Any]:
        return {
            "key_id": d["key_id"],
            "name": d.get("name") or "",
            "prefix": d.get("prefix") or "",
            "scope": d.get("scope") or "workspace",
            "namespace": d.get("namespace"),
            "created_at": d.get("created_at") or "",
        }

    @classmethod
    def from_dict(cls, d: _Json) -> KeyMetadata:
        return cls(**cls._fields(d))


@dataclass(frozen=True)
class KeyCreated(KeyMetadata):
    """A new key: ``api_key`` is its plaintext, shown this once."""

    api_key: str = field(default="", repr=False)

    @classmethod
    def from_dict(cls, d: _Json) -> KeyCreated:
        return cls(**cls._fields(d), api_key=d["api_key"])


@dataclass(frozen=True)
class WebhookMetadata:
    webhook_id: str
    url: str
    events: tuple[str, ...] = ("*",)
    namespace: str | None = None
    description: str | None = None
    enabled: bool = True
    created_at: str = ""
    last_delivery_at: str | None = None
    last_delivery_ok: bool | None = None
    last_delivery_status: int | None = None

    @classmethod
    def _fields(cls, d: _Json) -> dict[str, Any]:
        return {
            "webhook_id": d["webhook_id"],
            "url": d["url"],
            "events": tuple(d.get("events") or ("*",)),
            "namespace": d.get("namespace"),
            "description": d.get("description"),
            "enabled": bool(d.get("enabled", True)),
            "created_at": d.get("created_at") or "",
            "last_delivery_at": d.get("last_delivery_at"),
            "last_delivery_ok": d.get("last_delivery_ok"),
            "last_delivery_status": _opt_int(d.get("last_delivery_status")),
        }

    @classmethod
    def from_dict(cls, d: _Json) -> WebhookMetadata:
        return cls(**cls._fields(d))


@dataclass(frozen=True)
class WebhookCreated(WebhookMetadata):
    """A new subscription: ``signing_secret`` is shown this once."""

    signing_secret: str = field(default="", repr=False)

    @classmethod
    def from_dict(cls, d: _Json) -> WebhookCreated:
        return cls(**cls._fields(d), signing_secret=d["signing_secret"])


@dataclass(frozen=True)
class WebhookTestResult:
    ok: bool
    event_id: str
    status: int | None = None
    error: str | None = None

    @classmethod
    def from_dict(cls, d: _Json) -> WebhookTestResult:
        return cls(
            ok=bool(d.get("ok", False)),
            event_id=d.get("event_id") or "",
            status=_opt_int(d.get("status")),
            error=d.get("error"),
        )


@dataclass(frozen=True)
class SecretRotation:
    """``rotate_webhook_secret``: the new secret; the old one still signs until the expiry."""

    signing_secret: str = field(repr=False)
    previous_expires_at: str | None

    @classmethod
    def from_dict(cls, d: _Json) -> SecretRotation:
        return cls(
            signing_secret=d["signing_secret"], previous_expires_at=d.get("previous_expires_at")
        )


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt of one event to one webhook (extension X2)."""

    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    status: int | None
    ok: bool
    error: str | None
    duration_ms: int | None
    created_at: str
    next_attempt_at: str | None

    @classmethod
    def from_dict(cls, d: _Json) -> Delivery:
        return cls(
            delivery_id=d["delivery_id"],
            event_id=d.get("event_id") or "",
            event_type=d.get("event_type") or "",
            attempt=int(d.get("attempt") or 1),
            status=_opt_int(d.get("status")),
            ok=bool(d.get("ok", False)),
            error=d.get("error"),
            duration_ms=_opt_int(d.get("duration_ms")),
            created_at=d.get("created_at") or "",
            next_attempt_at=d.get("next_attempt_at"),
        )


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: tuple[Delivery, ...]
    next_cursor: str | None

    @classmethod
    def from_dict(cls, d: _Json) -> DeliveryPage:
        return cls(
            deliveries=tuple(Delivery.from_dict(x) for x in d.get("deliveries") or ()),
            next_cursor=d.get("next_cursor"),
        )


@dataclass(frozen=True)
class ReplayResult:
    """``replay_webhook``: how many events were queued again."""

    queued: int

    @classmethod
    def from_dict(cls, d: _Json) -> ReplayResult:
        return cls(queued=int(d.get("queued") or 0))


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    file_count: int
    size_bytes: int
    modified_at: str | None

    @classmethod
    def from_dict(cls, d: _Json) -> NamespaceInfo:
        return cls(
            name=d["name"],
            file_count=int(d.get("file_count") or 0),
            size_bytes=int(d.get("size_bytes") or 0),
            modified_at=d.get("modified_at"),
        )


@dataclass(frozen=True)
class WorkspaceCreated:
    """Open sign-up (extension X8): a new workspace and its first two keys, shown once."""

    workspace_id: str
    api_key: str = field(repr=False)
    admin_key: str = field(repr=False)

    @classmethod
    def from_dict(cls, d: _Json) -> WorkspaceCreated:
        return cls(workspace_id=d["workspace_id"], api_key=d["api_key"], admin_key=d["admin_key"])


@dataclass(frozen=True)
class DeviceCode:
    """The start of a device login: show ``user_code`` and send the human to the URI."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None = None
    interval: int = 2
    expires_in: int = 600

    @classmethod
    def from_dict(cls, d: _Json) -> DeviceCode:
        return cls(
            device_code=d["device_code"],
            user_code=d["user_code"],
            verification_uri=d["verification_uri"],
            verification_uri_complete=d.get("verification_uri_complete"),
            interval=2 if d.get("interval") is None else max(1, int(d["interval"])),
            expires_in=int(d.get("expires_in") or 600),
        )

    @property
    def browser_uri(self) -> str:
        return self.verification_uri_complete or self.verification_uri


@dataclass(frozen=True)
class DeviceLoginResult:
    """An approved device login: a freshly minted key."""

    api_key: str = field(repr=False)
    workspace_id: str
    key_id: str


@dataclass(frozen=True)
class WorkspaceBootstrap:
    """One-call orientation for an agent picking up a namespace (``bootstrap()``)."""

    namespace: str
    file_count: int
    last_modified_at: str | None
    recent_files: tuple[FileInfo, ...]
    init_script: str | None
    agent_memory: str | None
    truncated: bool

    def as_system_prompt_block(self) -> str:
        """The ``<workspace>`` block agents read on their first turn (stable line format)."""
        lines = ["<workspace>", f"  namespace: {self.namespace}"]
        if self.file_count == 0:
            lines.append("  files: 0 (empty)")
        else:
            last = f"; last edited {self.last_modified_at}" if self.last_modified_at else ""
            more = " (more, truncated)" if self.truncated else ""
            lines.append(f"  files: {self.file_count}{last}{more}")
        if self.recent_files:
            names = ", ".join(
                f.path + (f" ({f.size_bytes}B)" if f.size_bytes is not None else "")
                for f in self.recent_files
            )
            lines.append(f"  recent: {names}")
        if self.init_script and self.init_script.strip():
            lines.append("  init.sh: " + self.init_script.strip().replace("\n", "; "))
        if self.agent_memory and self.agent_memory.strip():
            lines.append("  last_session: |")
            lines.extend(f"    {line}" for line in self.agent_memory.rstrip().splitlines())
        lines.append("</workspace>")
        return "\n".join(lines)
