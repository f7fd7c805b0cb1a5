"""Snapshots (CONTRACT §2.5, D11): create, list newest first, restore (wipe + extract),
delete, label limit, retention."""

from __future__ import annotations

import time

import pytest

from tests.server.support import headers
from trove_sdk import TroveError, TroveNotFoundError


def test_create_answers_201_with_the_snapshot(http, trove_server, client, namespace):
    client.write("a.txt", "x")
    response = http.post(
        "/v1/snapshots", json={"label": None}, headers=headers(trove_server.api_key, namespace)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["snapshot_id"].startswith("snap-")
    assert (body["namespace"], body["label"]) == (namespace, None)
    assert body["size_bytes"] > 0


def test_restore_wipes_then_brings_back_the_files(client):
    client.write("keep/a.txt", "alpha")
    client.upload("bin.dat", b"\x00\x01")
    client.exec_detailed("echo '#!/bin/sh' > workspace/run.sh && chmod 755 workspace/run.sh")
    snap = client.create_snapshot("before")
    client.write("later.txt", "added after")
    client.delete("keep")
    assert client.restore_snapshot(snap.snapshot_id) == 3
    paths = sorted(e.path for e in client.list_dir(recursive=True))
    assert paths == ["workspace/bin.dat", "workspace/keep", "workspace/keep/a.txt",
                     "workspace/run.sh"]  # fmt: skip
    assert client.read_text("keep/a.txt") == "alpha"
    assert client.exec_detailed("test -x workspace/run.sh && echo exec").stdout == "exec\n"


def test_list_is_newest_first_and_per_namespace(client, trove_server, namespace):
    first = client.create_snapshot("one")
    second = client.create_snapshot("two")
    with trove_server.client(namespace + "-other") as other:
        other.create_snapshot("theirs")
    assert [s.snapshot_id for s in client.list_snapshots()] == [
        second.snapshot_id,
        first.snapshot_id,
    ]


def test_list_is_capped(capped):
    for i in range(4):
        capped.create_snapshot(f"s{i}")
    assert len(capped.list_snapshots()) == 3


def test_delete_then_restore_is_404(client):
    snap = client.create_snapshot()
    client.delete_snapshot(snap.snapshot_id)
    with pytest.raises(TroveNotFoundError):
        client.restore_snapshot(snap.snapshot_id)
    with pytest.raises(TroveNotFoundError):
        client.delete_snapshot(snap.snapshot_id)


def test_another_namespaces_snapshot_is_not_found(client, trove_server, namespace):
    with trove_server.client(namespace + "-owner") as owner:
        snap = owner.create_snapshot("private")
    with pytest.raises(TroveNotFoundError):
        client.restore_snapshot(snap.snapshot_id)


def test_a_label_over_128_characters_is_422(client):
    with pytest.raises(TroveError) as info:
        client.create_snapshot("x" * 129)
    assert info.value.status_code == 422
    assert "limit is 128" in info.value.message
    assert client.create_snapshot("y" * 128).label == "y" * 128


def test_snapshot_events_are_emitted(client, namespace):
    snap = client.create_snapshot("evented")
    client.restore_snapshot(snap.snapshot_id)
    client.delete_snapshot(snap.snapshot_id)
    events = client.list_events(namespace=namespace, types="snapshot.*").events
    assert [e.type for e in events] == ["snapshot.deleted", "snapshot.restored", "snapshot.created"]
    assert events[2].data.label == "evented"


def test_expired_snapshots_disappear(tmp_path, namespace):
    from trove_server.testing import run_server

    with (
        run_server(tmp_path, snapshot_retention_days=0.2 / 86400) as server,
        server.client(namespace) as c,
    ):
        snap = c.create_snapshot("brief")
        time.sleep(0.3)
        assert c.list_snapshots() == []
        with pytest.raises(TroveNotFoundError):
            c.restore_snapshot(snap.snapshot_id)


_DEEP = "$(printf 'd/%.0s' $(seq 1100))"  # 1100 levels: past Python's recursion limit


def test_a_tree_deeper_than_the_recursion_limit_is_archived_and_restored_whole(client):
    made = client.exec_detailed(f"mkdir -p workspace/{_DEEP} && echo deep > workspace/{_DEEP}f")
    assert made.exit_code == 0, made.stderr
    snap = client.create_snapshot("deep")
    client.exec_detailed("rm -rf workspace/d")
    assert client.restore_snapshot(snap.snapshot_id) == 1
    assert client.exec_detailed(f"cat workspace/{_DEEP}f").stdout == "deep\n"
    # pytest's clean-up of the server's data directory recurses and would fail on it.
    client.delete("d")
