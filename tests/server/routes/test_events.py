"""The events feed (CONTRACT §2.8, D2)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.server.support import headers
from trove_sdk import EVENT_TYPES, TroveAdminClient, parse_event


def _feed(http, key, ws, **params):
    return http.get(f"/v1/workspaces/{ws}/events", params=params, headers=headers(key))


def _write_spaced(client, names):
    for name in names:
        client.write(name, "x")
        time.sleep(0.005)  # distinct milliseconds, so `since` has something to separate


def test_rows_are_envelopes_with_event_id_newest_first(http, trove_server, client, namespace):
    _write_spaced(client, ["1.txt", "2.txt"])
    body = _feed(http, trove_server.api_key, trove_server.workspace_id, namespace=namespace).json()
    rows = body["events"]
    assert [r["data"]["path"] for r in rows] == ["workspace/2.txt", "workspace/1.txt"]
    for row in rows:
        assert row["event_id"] == row["id"]
        assert row["created_at"].endswith("Z") and len(row["created_at"]) == 24
        assert parse_event(row).type == "file.written"
    assert body["next_cursor"] is None


def test_since_is_exclusive(client, namespace):
    _write_spaced(client, ["a", "b", "c"])
    oldest_first = list(reversed(client.list_events(namespace=namespace).events))
    after_b = client.list_events(namespace=namespace, since=oldest_first[1].created_at)
    assert [e.data.path for e in after_b.events] == ["workspace/c"]


def test_since_accepts_the_clis_isoformat_with_offset(http, trove_server, client, namespace):
    client.write("x", "x")
    past = datetime(2000, 1, 1, tzinfo=timezone.utc).isoformat()
    response = _feed(
        http, trove_server.api_key, trove_server.workspace_id, namespace=namespace, since=past
    )
    assert response.status_code == 200
    assert len(response.json()["events"]) == 1


def test_since_accepts_a_duration(client, namespace):
    client.write("recent", "x")
    assert len(client.list_events(namespace=namespace, since="5m").events) == 1


def test_cursor_pages_cover_everything_once(client, namespace):
    client.exec_detailed("for i in 1 2 3 4 5 6; do echo > workspace/f$i; done")
    everything = client.list_events(namespace=namespace, limit=200).events
    assert len(everything) == 7  # six file.written and exec.completed
    seen, cursor, pages = [], None, 0
    while True:
        page = client.list_events(namespace=namespace, limit=3, cursor=cursor)
        seen.extend(e.id for e in page.events)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == [e.id for e in everything]


def test_limit_defaults_to_50(client, namespace):
    client.exec_detailed("for i in $(seq 60); do echo > workspace/f$i; done")
    page = client.list_events(namespace=namespace)
    assert len(page.events) == 50
    assert page.next_cursor is not None


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"limit": "201"}, "limit must be between 1 and 200"),
        ({"limit": "0"}, "limit must be between 1 and 200"),
        ({"limit": "many"}, "limit must be a whole number"),
        ({"cursor": "abc"}, "not a cursor"),
        ({"cursor": "-5"}, "not a cursor"),
        ({"cursor": "²"}, "not a cursor"),
        ({"cursor": "1²"}, "not a cursor"),
        ({"cursor": "9" * 19}, "not a cursor"),
        ({"since": "yesterday"}, "since:"),
        ({"since": "2026-13-45"}, "since:"),
        ({"types": "file.writen"}, "did you mean 'file.written'"),
        ({"types": "nope.*"}, "unknown event group"),
        ({"namespace": "../x"}, "not a valid namespace"),
        ({"namespace": "alice\n"}, "not a valid namespace"),
    ],
)
def test_bad_feed_parameters_are_422(http, trove_server, params, complaint):
    response = _feed(http, trove_server.api_key, trove_server.workspace_id, **params)
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_types_filter_takes_names_and_groups(client, namespace):
    client.write("f", "x")
    client.exec_detailed("true")
    assert {
        e.type for e in client.list_events(namespace=namespace, types="exec.completed").events
    } == {"exec.completed"}
    assert {e.type for e in client.list_events(namespace=namespace, types=["file.*"]).events} == {
        "file.written"
    }


def test_the_namespace_filter(client, trove_server, namespace):
    client.write("mine", "x")
    with trove_server.client(namespace + "-other") as other:
        other.write("theirs", "x")
    paths = [e.data.path for e in client.list_events(namespace=namespace).events]
    assert paths == ["workspace/mine"]


def test_a_locked_key_sees_only_its_namespace(trove_server, namespace, http):
    locked = trove_server.create_key("feed-locked", namespace=namespace)
    with trove_server.client(namespace, api_key=locked.api_key) as own:
        own.write("visible", "x")
    with trove_server.client(namespace + "-x") as other:
        other.write("invisible", "x")
    rows = _feed(http, locked.api_key, trove_server.workspace_id, limit=200).json()["events"]
    assert rows and {r["namespace"] for r in rows} == {namespace}
    response = _feed(http, locked.api_key, trove_server.workspace_id, namespace=namespace + "-x")
    assert response.status_code == 403


def test_an_admin_key_reads_the_feed(admin_client):
    assert admin_client.list_events(limit=1).events


def test_another_workspaces_feed_is_403(http, trove_server):
    other = trove_server.create_workspace("feed-other")
    response = _feed(http, trove_server.api_key, other.workspace_id)
    assert response.status_code == 403


def test_every_catalogued_event_type_is_emitted_somewhere(
    admin_client, trove_server, receiver, tmp_path
):
    """Drive one of each mutation, then find every type of the catalogue in the feed."""
    namespace = f"all-{int(time.time() * 1000)}"
    with trove_server.client(namespace) as c:
        c.write("a", "x")
        c.delete("a")
        c.exec_detailed("true")
        snap = c.create_snapshot("all")
        c.restore_snapshot(snap.snapshot_id)
        c.delete_snapshot(snap.snapshot_id)
    key = admin_client.create_key("all-types")
    admin_client.revoke_key(key.key_id)
    hook = admin_client.create_webhook(receiver.url)
    admin_client.test_webhook(hook.webhook_id)
    admin_client.delete_webhook(hook.webhook_id)
    admin_client.delete_namespace(namespace)
    seen = {e.type for e in admin_client.iter_events(since="5m")}
    fresh = trove_server.create_workspace("all-types")  # workspace.created: in its own feed
    with TroveAdminClient(
        fresh.admin_key, fresh.workspace_id, base_url=trove_server.base_url
    ) as other:
        seen |= {e.type for e in other.list_events().events}
    assert set(EVENT_TYPES) <= seen
