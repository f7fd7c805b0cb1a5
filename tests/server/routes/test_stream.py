"""The resumable event stream (X1) over real HTTP, raw and through our SDK."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.server.support import EventStreamReader, headers
from trove_sdk import TroveError


@pytest.fixture
def open_stream(trove_server):
    readers = []

    def opener(key=None, path="webhooks/stream", extra_headers=None, **params):
        url = f"{trove_server.base_url}/v1/workspaces/{trove_server.workspace_id}/{path}"
        reader = EventStreamReader(
            url, {**headers(key or trove_server.api_key), **(extra_headers or {})}, **params
        )
        readers.append(reader)
        return reader

    yield opener
    for reader in readers:
        reader.close()


def test_the_first_block_is_the_connected_event(open_stream):
    stream = open_stream()
    assert stream.status == 200
    assert stream.content_type.startswith("text/event-stream")
    first = stream.next_block()
    assert first["event"] == "connected"
    assert json.loads(first["data"])["type"] == "connected"


def test_events_carry_a_numeric_id_their_type_and_the_envelope(open_stream, client, namespace):
    stream = open_stream(namespace=namespace)
    stream.next_block()
    client.write("s.txt", "x")
    (block,) = stream.events(1)
    assert block["id"].isdigit()
    assert block["event"] == "file.written"
    envelope = json.loads(block["data"])
    (row,) = client.list_events(namespace=namespace).events
    assert envelope == row.to_dict()


def test_the_events_path_serves_the_same_stream(open_stream, client, namespace):
    stream = open_stream(path="events/stream", namespace=namespace)
    stream.next_block()
    client.write("e.txt", "x")
    assert stream.events(1)[0]["event"] == "file.written"


def test_last_event_id_resumes_with_no_gap_and_no_duplicate(open_stream, client, namespace):
    first = open_stream(namespace=namespace)
    first.next_block()
    for name in ("1", "2", "3"):
        client.write(name, "x")
    blocks = first.events(3)
    first.close()
    for name in ("4", "5"):
        client.write(name, "x")
    resumed = open_stream(namespace=namespace, extra_headers={"Last-Event-ID": blocks[1]["id"]})
    resumed.next_block()
    paths = [json.loads(b["data"])["data"]["path"] for b in resumed.events(3)]
    assert paths == ["workspace/3", "workspace/4", "workspace/5"]


def test_the_cursor_parameter_resumes_too(open_stream, client, namespace):
    stream = open_stream(namespace=namespace)
    stream.next_block()
    client.write("a", "x")
    (seen,) = stream.events(1)
    client.write("b", "x")
    again = open_stream(namespace=namespace, cursor=seen["id"])
    again.next_block()
    assert json.loads(again.events(1)[0]["data"])["data"]["path"] == "workspace/b"


def test_a_last_event_id_from_the_future_is_400(open_stream):
    stream = open_stream(extra_headers={"Last-Event-ID": "999999999999"})
    assert stream.status == 400
    assert "ahead of this server" in json.loads(stream.error_body)["detail"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "9" * 30, "²", "1²"])
def test_a_garbage_cursor_is_400(open_stream, cursor):
    stream = open_stream(cursor=cursor)
    assert stream.status == 400
    assert "not a cursor" in json.loads(stream.error_body)["detail"]


def test_the_types_filter(open_stream, client, namespace):
    stream = open_stream(namespace=namespace, types="exec.completed")
    stream.next_block()
    client.write("ignored", "x")
    client.exec_detailed("true")
    assert stream.events(1)[0]["event"] == "exec.completed"


def test_the_namespace_filter(open_stream, client, trove_server, namespace):
    stream = open_stream(namespace=namespace)
    stream.next_block()
    with trove_server.client(namespace + "-elsewhere") as other:
        other.write("elsewhere", "x")
    client.write("here", "x")
    assert json.loads(stream.events(1)[0]["data"])["namespace"] == namespace


def test_a_locked_key_only_streams_its_namespace(open_stream, trove_server, namespace):
    locked = trove_server.create_key("stream-locked", namespace=namespace)
    stream = open_stream(key=locked.api_key)
    stream.next_block()
    with trove_server.client(namespace + "-no") as other:
        other.write("no", "x")
    with trove_server.client(namespace) as mine:
        mine.write("yes", "x")
    assert json.loads(stream.events(1)[0]["data"])["data"]["path"] == "workspace/yes"
    refused = open_stream(key=locked.api_key, namespace=namespace + "-no")
    assert refused.status == 403


def test_keep_alive_comments_arrive_when_nothing_happens(open_stream):
    stream = open_stream(namespace="quiet-namespace")
    stream.next_block()
    assert stream.next_block(timeout=5)["comments"] == ["keep-alive"]


def test_the_sdk_streams_events_in_order(client, namespace):
    received = []

    def consume():
        for item in client.stream_events(namespace=namespace):
            received.append(item)
            if len(received) == 3:
                return

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    time.sleep(0.3)  # let the subscription open before the events exist
    for name in ("x", "y", "z"):
        client.write(name, "x")
    thread.join(10)
    assert [i.event.data.path for i in received] == ["workspace/x", "workspace/y", "workspace/z"]
    assert [int(i.cursor) for i in received] == sorted(int(i.cursor) for i in received)


def test_the_sdk_reports_a_future_cursor_as_an_error(client):
    with pytest.raises(TroveError) as info:
        next(iter(client.stream_events(cursor="999999999999")))
    assert info.value.status_code == 400


def test_revoking_the_key_ends_its_open_stream(open_stream, trove_server, client, namespace):
    doomed = trove_server.create_key("stream-revoked")
    stream = open_stream(key=doomed.api_key, namespace=namespace)
    stream.next_block()
    with trove_server.admin() as admin:
        admin.revoke_key(doomed.key_id)
    client.write("after-revocation.txt", "not for a revoked key")
    with pytest.raises(AssertionError, match="the stream ended"):
        stream.next_block()
