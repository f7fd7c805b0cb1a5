"""The event catalogue: one frozen dataclass per event type, and the one table of names.

``EVENT_TYPES`` maps every type string to its class. The server reads it when it emits, the
receiver kit when it validates handler registrations and parses deliveries, the CLI when it
renders; nothing else lists event names. Types missing from the table parse to
``UnknownEvent`` (forward compatibility: a newer server may send types this version has never
heard of, and receivers must acknowledge them rather than fail).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Callable, Iterator, KeysView, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from trove_sdk._exceptions import EventParseError

__all__ = [
    "API_VERSION",
    "EVENT_TYPES",
    "Event",
    "ExecCompleted",
    "ExecCompletedData",
    "FileDeleted",
    "FileDeletedData",
    "FileWritten",
    "FileWrittenData",
    "KeyCreated",
    "KeyCreatedData",
    "KeyRevoked",
    "KeyRevokedData",
    "NamespaceDeleted",
    "NamespaceDeletedData",
    "SnapshotCreated",
    "SnapshotCreatedData",
    "SnapshotDeleted",
    "SnapshotDeletedData",
    "SnapshotRestored",
    "SnapshotRestoredData",
    "UnknownEvent",
    "WebhookTest",
    "WebhookTestData",
    "WorkspaceCreated",
    "WorkspaceCreatedData",
    "parse_event",
    "suggest_event_type",
]

API_VERSION = "2026-04-30"

DataT = TypeVar("DataT")
_Class = type  # Event has a field named ``type``; class-level annotations need the builtin.


# --- typed payloads -------------------------------------------------------------------------
# Fields without a default are required in a delivery; the rest are optional so that servers
# which leave them out (older or hosted ones) still parse.


class Payload:
    """Key access to a typed payload's fields, as on the plain dict that ``event.data`` was in
    0.7.x: ``data["path"]``, ``data.get("size_bytes")``, ``"path" in data``, ``dict(data)``.

    Receivers written against the published client keep working; new code reads attributes.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.__dataclass_fields__ else default

    def __contains__(self, key: object) -> bool:
        return key in self.__dataclass_fields__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)

    def keys(self) -> KeysView[str]:
        return self.__dataclass_fields__.keys()

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def items(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]


@dataclass(frozen=True)
class FileWrittenData(Payload):
    path: str
    size_bytes: int | None = None
    source: str | None = None  # "write" | "upload" | "exec"


@dataclass(frozen=True)
class FileDeletedData(Payload):
    path: str
    source: str | None = None  # "delete" | "exec"


@dataclass(frozen=True)
class ExecCompletedData(Payload):
    command: str
    exit_code: int
    duration_ms: int = 0
    stdin_bytes: int = 0
    stdout: str = ""  # the first 1 KiB
    timed_out: bool = False
    files_scan: str | None = None  # "skipped" when the change scan hit its bound


@dataclass(frozen=True)
class SnapshotCreatedData(Payload):
    snapshot_id: str
    label: str | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class SnapshotRestoredData(Payload):
    snapshot_id: str
    files_restored: int = 0


@dataclass(frozen=True)
class SnapshotDeletedData(Payload):
    snapshot_id: str


@dataclass(frozen=True)
class NamespaceDeletedData(Payload):
    namespace: str
    files_deleted: int = 0


@dataclass(frozen=True)
class WorkspaceCreatedData(Payload):
    workspace_id: str
    name: str = ""


@dataclass(frozen=True)
class KeyCreatedData(Payload):
    key_id: str
    name: str = ""
    scope: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class KeyRevokedData(Payload):
    key_id: str


@dataclass(frozen=True)
class WebhookTestData(Payload):
    message: str = ""


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event(Generic[DataT]):
    """A Trove event envelope (CONTRACT §4.2) with a typed ``data``."""

    id: str
    type: str
    api_version: str
    workspace_id: str
    namespace: str | None
    created_at: str
    data: DataT

    event_type: ClassVar[str | None] = None
    data_class: ClassVar[_Class | None] = None

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-ready data (``data`` flattened back to a dict)."""
        data: Any = self.data
        if dataclasses.is_dataclass(data) and not isinstance(data, type):
            data = dataclasses.asdict(data)
        return {
            "id": self.id,
            "type": self.type,
            "api_version": self.api_version,
            "workspace_id": self.workspace_id,
            "namespace": self.namespace,
            "created_at": self.created_at,
            "data": data,
        }


@dataclass(frozen=True)
class UnknownEvent(Event[dict[str, Any]]):
    """A type this version does not know; ``data`` is the raw mapping."""


@dataclass(frozen=True)
class FileWritten(Event[FileWrittenData]):
    event_type: ClassVar[str | None] = "file.written"
    data_class: ClassVar[_Class | None] = FileWrittenData


@dataclass(frozen=True)
class FileDeleted(Event[FileDeletedData]):
    event_type: ClassVar[str | None] = "file.deleted"
    data_class: ClassVar[_Class | None] = FileDeletedData


@dataclass(frozen=True)
class ExecCompleted(Event[ExecCompletedData]):
    event_type: ClassVar[str | None] = "exec.completed"
    data_class: ClassVar[_Class | None] = ExecCompletedData


@dataclass(frozen=True)
class SnapshotCreated(Event[SnapshotCreatedData]):
    event_type: ClassVar[str | None] = "snapshot.created"
    data_class: ClassVar[_Class | None] = SnapshotCreatedData


@dataclass(frozen=True)
class SnapshotRestored(Event[SnapshotRestoredData]):
    event_type: ClassVar[str | None] = "snapshot.restored"
    data_class: ClassVar[_Class | None] = SnapshotRestoredData


@dataclass(frozen=True)
class SnapshotDeleted(Event[SnapshotDeletedData]):
    event_type: ClassVar[str | None] = "snapshot.deleted"
    data_class: ClassVar[_Class | None] = SnapshotDeletedData


@dataclass(frozen=True)
class NamespaceDeleted(Event[NamespaceDeletedData]):
    event_type: ClassVar[str | None] = "namespace.deleted"
    data_class: ClassVar[_Class | None] = NamespaceDeletedData


@dataclass(frozen=True)
class WorkspaceCreated(Event[WorkspaceCreatedData]):
    event_type: ClassVar[str | None] = "workspace.created"
    data_class: ClassVar[_Class | None] = WorkspaceCreatedData


@dataclass(frozen=True)
class KeyCreated(Event[KeyCreatedData]):
    event_type: ClassVar[str | None] = "key.created"
    data_class: ClassVar[_Class | None] = KeyCreatedData


@dataclass(frozen=True)
class KeyRevoked(Event[KeyRevokedData]):
    event_type: ClassVar[str | None] = "key.revoked"
    data_class: ClassVar[_Class | None] = KeyRevokedData


@dataclass(frozen=True)
class WebhookTest(Event[WebhookTestData]):
    event_type: ClassVar[str | None] = "webhook.test"
    data_class: ClassVar[_Class | None] = WebhookTestData


_CATALOGUE: tuple[type[Event[Any]], ...] = (
    FileWritten,
    FileDeleted,
    ExecCompleted,
    SnapshotCreated,
    SnapshotRestored,
    SnapshotDeleted,
    NamespaceDeleted,
    WorkspaceCreated,
    KeyCreated,
    KeyRevoked,
    WebhookTest,
)

EVENT_TYPES: Mapping[str, type[Event[Any]]] = {
    cls.event_type: cls for cls in _CATALOGUE if cls.event_type is not None
}


# --- parsing --------------------------------------------------------------------------------

_Spec = tuple[str, tuple[type, ...], bool, Any]  # name, accepted types, required, default


def _field_specs(data_class: type) -> tuple[_Spec, ...]:
    """Read a payload dataclass once: each field's accepted JSON types and default."""
    hints = typing.get_type_hints(data_class)
    specs: list[_Spec] = []
    for f in dataclasses.fields(data_class):
        accepted = tuple(
            t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t is not type(None)
        )
        required = f.default is dataclasses.MISSING
        nullable = type(None) in typing.get_args(hints[f.name])
        specs.append((f.name, accepted + ((type(None),) if nullable else ()), required, f.default))
    return tuple(specs)


_SPECS: dict[type, tuple[_Spec, ...]] = {
    cls.data_class: _field_specs(cls.data_class) for cls in _CATALOGUE if cls.data_class is not None
}
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", type(None): "null"}


_MISSING: Any = object()


def _build_data(event_type: str, data_class: type, raw: Mapping[str, Any]) -> Any:
    values: dict[str, Any] = {}
    get = raw.get
    for name, accepted, required, default in _SPECS[data_class]:
        value = get(name, _MISSING)
        if value is _MISSING:
            if required:
                raise EventParseError(f"{event_type} event: data.{name} is missing")
            value = default
        # bool is an int subclass; a JSON true must not pass as a size or an exit code.
        elif type(value) not in accepted:
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in accepted)
            raise EventParseError(f"{event_type} event: data.{name} must be {wanted}")
        values[name] = value
    obj: Any = object.__new__(data_class)
    # Frozen dataclasses only forbid __setattr__; filling __dict__ directly skips the
    # per-field object.__setattr__ calls that dominate small-delivery verification time.
    obj.__dict__.update(values)
    return obj


def _adopt_checked(payload: dict[str, Any]) -> Event[Any]:
    """``adopt_event`` for any payload: fills what may be left out, names what is wrong."""
    get = payload.get
    event_id, event_type = get("id"), get("type")
    if (
        type(event_id) is not str
        or type(event_type) is not str
        or type(get("api_version")) is not str
        or type(get("workspace_id")) is not str
        or type(get("created_at")) is not str
    ):
        raise _envelope_error(payload)
    # Receivers deduplicate on the id: an empty one would make every such event a duplicate
    # of the first, and an unbounded one overflows database indexes.
    if not 0 < len(event_id) <= MAX_EVENT_ID_LENGTH:
        raise EventParseError(f"event field 'id' must be 1 to {MAX_EVENT_ID_LENGTH} characters")
    if not event_type:
        raise EventParseError("event field 'type' must not be empty")
    namespace = get("namespace", _MISSING)
    if type(namespace) is not str:
        if namespace is _MISSING:
            payload["namespace"] = None
        elif namespace is not None:
            raise EventParseError("event field 'namespace' must be a string or null")
    raw_data = get("data", _MISSING)
    if raw_data is _MISSING or raw_data is None:
        raw_data = {}
    elif not isinstance(raw_data, Mapping):
        raise EventParseError("event field 'data' must be an object")
    cls = EVENT_TYPES.get(event_type)
    if cls is None or cls.data_class is None:
        cls = UnknownEvent
        payload["data"] = dict(raw_data)
    else:
        payload["data"] = _build_data(event_type, cls.data_class, raw_data)
    event: Any = object.__new__(cls)
    object.__setattr__(event, "__dict__", payload)
    return event  # type: ignore[no-any-return]


def _compile_adopter(cls: type[Event[Any]]) -> Callable[[dict[str, Any]], Event[Any]]:
    """``adopt_event`` specialised to one event type, generated once at import.

    Verification adopts an event per delivery, and on small bodies a generic loop over the
    fields costs more than the HMAC; like ``dataclasses`` does for ``__init__``, we write the
    straight-line checks of the envelope and the payload out in one function instead. Anything
    irregular (a field missing or mistyped, no namespace, no data) goes to ``_adopt_checked``,
    which fills the defaults or raises the precise error; the payload is untouched until then.
    """
    assert cls.event_type is not None and cls.data_class is not None
    namespace: dict[str, Any] = {
        "MISSING": _MISSING,
        "MAX_ID": MAX_EVENT_ID_LENGTH,
        "NAMESPACE": (str, type(None)),
        "new": object.__new__,
        "set_dict": object.__setattr__,
        "EVENT": cls,
        "DATA": cls.data_class,
        "checked": _adopt_checked,
    }
    lines = [
        "def adopt(payload):",
        "    try:",
        "        event_id = payload['id']",
        "        raw = payload['data']",
        "        regular = (",
        "            type(event_id) is str",
        "            and 0 < len(event_id) <= MAX_ID",
        "            and type(payload['api_version']) is str",
        "            and type(payload['workspace_id']) is str",
        "            and type(payload['created_at']) is str",
        "            and type(payload.get('namespace', MISSING)) in NAMESPACE",
        "            and type(raw) is dict",
        "        )",
        "    except KeyError:",
        "        regular = False",
        "    if not regular:",
        "        return checked(payload)",
        "    get = raw.get",
        # A payload holding exactly the fields becomes the data's state as it is; one with
        # fields left out or extra ones gets a dict of exactly the fields.
        f"    exact = len(raw) == {len(_SPECS[cls.data_class])}",
    ]
    names = []
    for index, (name, accepted, required, default) in enumerate(_SPECS[cls.data_class]):
        value = f"v{index}"
        namespace[f"A{index}"], namespace[f"D{index}"] = accepted, default
        lines.append(f"    {value} = get({name!r}, MISSING)")
        if required:
            lines.append(f"    if {value} is MISSING or type({value}) not in A{index}:")
            lines.append("        return checked(payload)")
        else:
            lines.append(f"    if {value} is MISSING:")
            lines.append(f"        {value} = D{index}")
            lines.append("        exact = False")
            lines.append(f"    elif type({value}) not in A{index}:")
            lines.append("        return checked(payload)")
        names.append(f"{name!r}: {value}")
    lines += [
        "    data = new(DATA)",
        f"    set_dict(data, '__dict__', raw if exact else {{{', '.join(names)}}})",
        "    payload['data'] = data",
        "    event = new(EVENT)",
        "    set_dict(event, '__dict__', payload)",
        "    return event",
    ]
    exec("\n".join(lines), namespace)  # noqa: S102 — our own generated text, no input in it
    return namespace["adopt"]  # type: ignore[no-any-return]


_ENVELOPE_STRINGS = ("id", "type", "api_version", "workspace_id", "created_at")
MAX_EVENT_ID_LENGTH = 255

# type → its adopter: one lookup per delivery.
_ADOPTERS: dict[str, Callable[[dict[str, Any]], Event[Any]]] = {
    cls.event_type: _compile_adopter(cls)
    for cls in _CATALOGUE
    if cls.event_type is not None and cls.data_class is not None
}


def _envelope_error(payload: Mapping[str, Any]) -> EventParseError:
    for name in _ENVELOPE_STRINGS:
        value = payload.get(name)
        if value is None:
            return EventParseError(f"event field {name!r} is missing")
        if type(value) is not str:
            return EventParseError(f"event field {name!r} must be a string")
    return EventParseError("event envelope is malformed")  # pragma: no cover - unreachable


def parse_event(payload: Any) -> Event[Any]:
    """Turn a decoded envelope into its typed event; raises ``EventParseError`` naming the fault.

    Unknown types become ``UnknownEvent``; extra envelope fields (``event_id`` on feed rows) and
    extra data fields are ignored. ``payload`` itself is left untouched.
    """
    if not isinstance(payload, Mapping):
        raise EventParseError(f"an event must be a JSON object, not {type(payload).__name__}")
    owned = dict(payload)
    data = owned.get("data")
    if isinstance(data, Mapping):  # adopted as the payload's state: it must be ours too
        owned["data"] = dict(data)
    return adopt_event(owned)


def adopt_event(payload: dict[str, Any]) -> Event[Any]:
    """``parse_event`` for a dict the caller owns and will not use again (``json.loads``' result).

    The dict becomes the event's ``__dict__`` (and its ``data``, when it holds exactly the
    payload's fields, the payload's): no per-field copying, which is most of what
    verification costs beyond HMAC and JSON on small deliveries. Frozen dataclasses only
    guard ``__setattr__``, so the event is as immutable as one built by its constructor.
    """
    try:
        adopt = _ADOPTERS[payload["type"]]
    except (KeyError, TypeError):  # no type, or one this version does not know (or a list)
        return _adopt_checked(payload)
    return adopt(payload)


def suggest_event_type(name: str) -> str | None:
    """The closest known event type to a misspelt one, if any is close."""
    matches = difflib.get_close_matches(name, list(EVENT_TYPES), n=1, cutoff=0.6)
    return matches[0] if matches else None
