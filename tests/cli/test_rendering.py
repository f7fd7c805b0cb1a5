"""Event lines (CONTRACT §5.6) come from the typed catalogue, for every type it has."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from trove_cli.output import Stream
from trove_cli.rendering import RENDERERS, event_json, event_line, short_namespace, summary
from trove_sdk import EVENT_TYPES, parse_event, sample_event


def event(event_type: str, **data: object) -> object:
    return parse_event(sample_event(event_type, data=data))


def test_every_catalogued_event_type_has_its_own_renderer() -> None:
    assert set(RENDERERS) == set(EVENT_TYPES.values())


@pytest.mark.parametrize(
    ("event_type", "data", "text"),
    [
        ("file.written", {"path": "workspace/a.md", "size_bytes": 2048}, "workspace/a.md  (2.0KB)"),
        ("file.deleted", {"path": "workspace/a.md"}, "workspace/a.md"),
        (
            "exec.completed",
            {"command": "ls\n-la", "exit_code": 2, "duration_ms": 41},
            "ls -la  exit=2  (41ms)",
        ),
        ("snapshot.created", {"snapshot_id": "snap-1", "label": None}, "snap-1  label=-"),
        ("snapshot.restored", {"snapshot_id": "snap-1", "files_restored": 3}, "snap-1  files=3"),
        ("snapshot.deleted", {"snapshot_id": "snap-1"}, "snap-1"),
        ("namespace.deleted", {"namespace": "alice"}, "alice"),
        ("key.created", {"key_id": "key-1", "name": "ci"}, "key-1  name=ci"),
        ("key.revoked", {"key_id": "key-1"}, "key-1"),
        ("webhook.test", {"message": "hi"}, "hi"),
    ],
)
def test_summaries_read_the_typed_data(event_type: str, data: dict, text: str) -> None:
    assert summary(event(event_type, **data)) == text


def test_long_exec_commands_are_cut_unless_verbose() -> None:
    long = event("exec.completed", command="x" * 100, stdout="first\nsecond")
    assert summary(long).startswith("x" * 57 + "…  exit=")
    verbose = summary(long, verbose=True)
    assert verbose.startswith("x" * 100)
    assert verbose.endswith("\n    > first")


def test_unknown_types_show_their_data_as_compact_json() -> None:
    unknown = parse_event(sample_event("agent.thought", data={"text": "hmm", "n": 1}))
    assert summary(unknown) == '{"text":"hmm","n":1}'


def test_workspace_created_shows_its_data() -> None:
    assert summary(event("workspace.created")).startswith('{"workspace_id":"ws-')


def test_long_namespaces_are_shortened_and_missing_ones_are_a_dash() -> None:
    assert short_namespace("a" * 17) == "a" * 13 + "…"
    assert short_namespace("a" * 16) == "a" * 16
    assert short_namespace(None) == "-"


def test_a_line_has_time_type_namespace_and_summary_in_columns() -> None:
    now = datetime(2026, 4, 30, 12, tzinfo=timezone.utc)
    line = event_line(
        parse_event(
            sample_event(
                "file.deleted",
                data={"path": "workspace/x"},
                namespace="alice",
                created_at="2026-04-30T11:00:00.000Z",
            )
        ),
        Stream("stdout"),
        now=now,
    )
    assert line[16:34] == "file.deleted".ljust(18)
    assert line[36:52] == "alice".ljust(16)
    assert line.endswith("workspace/x")


def test_json_lines_keep_the_servers_own_text_when_there_is_one() -> None:
    e = event("file.deleted", path="workspace/x")
    assert event_json(e, '{"raw":true}') == '{"raw":true}'
    assert json.loads(event_json(e))["data"]["path"] == "workspace/x"
