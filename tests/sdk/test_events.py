"""The event catalogue: the contract's types and fields, typed parsing, samples, suggestions."""

from __future__ import annotations

import dataclasses
import json

import pytest

from trove_sdk import (
    EVENT_TYPES,
    SAMPLE_DATA,
    EventParseError,
    ExecCompleted,
    FileWritten,
    UnknownEvent,
    parse_event,
    sample_event,
    suggest_event_type,
)

# CONTRACT §4.3 with decisions D7 (exec.completed), D8 (files_scan) and D10: type → the data
# fields the contract names.
CONTRACT_FIELDS = {
    "file.written": {"path", "size_bytes", "source"},
    "file.deleted": {"path"},
    "exec.completed": {"command", "exit_code", "duration_ms", "stdout", "stdin_bytes", "timed_out",
                       "files_scan"},
    "snapshot.created": {"snapshot_id", "label"},
    "snapshot.restored": {"snapshot_id", "files_restored"},
    "snapshot.deleted": {"snapshot_id"},
    "namespace.deleted": {"namespace", "files_deleted"},
    "workspace.created": {"workspace_id", "name"},
    "key.created": {"key_id", "name"},
    "key.revoked": {"key_id"},
    "webhook.test": {"message"},
}  # fmt: skip


def test_the_catalogue_has_exactly_the_contract_types() -> None:
    assert set(EVENT_TYPES) == set(CONTRACT_FIELDS)


@pytest.mark.parametrize("event_type", sorted(CONTRACT_FIELDS))
def test_each_typed_payload_covers_the_contract_fields(event_type: str) -> None:
    data_class = EVENT_TYPES[event_type].data_class
    assert data_class is not None
    names = {f.name for f in dataclasses.fields(data_class)}
    assert CONTRACT_FIELDS[event_type] <= names


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_type_has_a_sample_that_parses_to_its_class(event_type: str) -> None:
    assert event_type in SAMPLE_DATA
    event = parse_event(sample_event(event_type))
    assert type(event) is EVENT_TYPES[event_type]
    assert event.type == event_type


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_to_dict_round_trips_through_json(event_type: str) -> None:
    event = parse_event(sample_event(event_type))
    assert parse_event(json.loads(json.dumps(event.to_dict()))) == event


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
@pytest.mark.parametrize("fields", ["all", "required only"])
def test_parsing_builds_what_the_dataclass_constructors_build(event_type: str, fields: str) -> None:
    """Parsing fills the objects' state directly (it is on every delivery's path); the result
    must be indistinguishable from calling the constructors, defaults included."""
    cls = EVENT_TYPES[event_type]
    data_class = cls.data_class
    assert data_class is not None
    envelope = sample_event(event_type)
    if fields == "required only":
        required = {
            f.name for f in dataclasses.fields(data_class) if f.default is dataclasses.MISSING
        }
        envelope["data"] = {k: v for k, v in envelope["data"].items() if k in required}
    expected = cls(**{**envelope, "data": data_class(**envelope["data"])})
    parsed = parse_event(envelope)
    assert parsed == expected
    assert vars(parsed) == vars(expected)
    assert vars(parsed.data) == vars(expected.data)


def test_parsing_shares_no_state_with_the_callers_dict() -> None:
    envelope = sample_event("file.written")
    event = parse_event(envelope)
    envelope["id"] = "evt-changed"
    envelope["data"]["path"] = "workspace/changed"
    assert event.id != "evt-changed"
    assert event.data.path != "workspace/changed"


def test_events_are_frozen() -> None:
    event = parse_event(sample_event("file.written"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.id = "evt-other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data.path = "elsewhere"  # type: ignore[misc]


def test_optional_data_fields_default_when_absent() -> None:
    envelope = sample_event("exec.completed")
    envelope["data"] = {"command": "ls", "exit_code": 0}
    event = parse_event(envelope)
    assert isinstance(event, ExecCompleted)
    assert (event.data.stdout, event.data.timed_out, event.data.files_scan) == ("", False, None)


def test_extra_envelope_and_data_fields_are_ignored() -> None:
    envelope = sample_event("file.written", data={"checksum": "abc"})
    envelope["event_id"] = envelope["id"]
    event = parse_event(envelope)
    assert isinstance(event, FileWritten)
    assert not hasattr(event.data, "checksum")


def test_a_missing_namespace_reads_as_workspace_level() -> None:
    envelope = sample_event("file.written")
    del envelope["namespace"]
    assert parse_event(envelope).namespace is None


def test_unknown_types_parse_to_unknown_event_with_raw_data() -> None:
    event = parse_event(sample_event("agent.dreamed", data={"x": [1]}))
    assert isinstance(event, UnknownEvent)
    assert event.data == {"x": [1]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "'id' is missing"),
        ({"type": 3}, "'type' must be a string"),
        ({"data": "x"}, "'data' must be an object"),
        ({"namespace": ["a"]}, "'namespace' must be a string or null"),
        ({"data": {"size_bytes": 1}}, "data.path is missing"),
        ({"data": {"path": "p", "size_bytes": 1.5}}, "data.size_bytes must be an integer or null"),
    ],
)
def test_a_malformed_envelope_names_the_offending_field(change: dict, message: str) -> None:  # type: ignore[type-arg]
    envelope = sample_event("file.written")
    envelope.update(change)
    if change.get("id", 0) is None:
        del envelope["id"]
    with pytest.raises(EventParseError, match=message):
        parse_event(envelope)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "", "'id' must be 1 to 255 characters"),
        ("id", "e" * 256, "'id' must be 1 to 255 characters"),
        ("type", "", "'type' must not be empty"),
    ],
)
def test_an_empty_or_oversized_id_or_type_is_refused(field: str, value: str, message: str) -> None:
    """Receivers dedupe on the id: an empty one would swallow every later event."""
    envelope = sample_event("file.written")
    envelope[field] = value
    with pytest.raises(EventParseError, match=message):
        parse_event(envelope)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(EventParseError, match="must be a JSON object"):
        parse_event([1, 2])


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("file.writen", "file.written"), ("exec.complete", "exec.completed"),
     ("snapshot.create", "snapshot.created"), ("fle.deleted", "file.deleted")],
)  # fmt: skip
def test_a_misspelt_type_gets_the_closest_known_name(typo: str, suggestion: str) -> None:
    assert suggest_event_type(typo) == suggestion


def test_nothing_is_suggested_for_an_unrelated_name() -> None:
    assert suggest_event_type("payment.captured") is None


def test_samples_are_workspace_level_where_the_contract_says_so() -> None:
    assert sample_event("key.created")["namespace"] is None
    assert sample_event("file.written", namespace="bob")["namespace"] == "bob"


def test_a_typed_payload_also_reads_like_the_dict_the_published_client_returned() -> None:
    data = parse_event(sample_event("file.written", data={"size_bytes": 7})).data
    assert data["path"] == data.path == "workspace/notes/plan.md"
    assert data.get("size_bytes") == 7
    assert data.get("no_such_field", "default") == "default"
    assert "source" in data and "no_such_field" not in data
    assert dict(data) == {"path": "workspace/notes/plan.md", "size_bytes": 7, "source": "write"}
    with pytest.raises(KeyError):
        data["no_such_field"]
