"""Namespaces (X6): listing with sizes, deletion with files and snapshots."""

from __future__ import annotations

import threading

import pytest

from tests.server.support import wait_until
from trove_sdk import TroveAuthError, TroveError, TroveNotFoundError


def test_a_namespace_is_listed_with_its_files_and_size(admin_client, client, namespace):
    client.write("a.txt", "12345")
    client.write("d/b.txt", "123")
    info = {n.name: n for n in admin_client.list_namespaces()}[namespace]
    assert (info.file_count, info.size_bytes) == (2, 8)
    assert info.modified_at.endswith("Z")


def test_delete_removes_files_snapshots_and_announces_it(admin_client, client, namespace):
    client.write("a.txt", "x")
    client.write("b.txt", "x")
    snap = client.create_snapshot("doomed")
    assert admin_client.delete_namespace(namespace) == 2
    assert namespace not in [n.name for n in admin_client.list_namespaces()]
    assert list(client.list_dir()) == []
    with pytest.raises(TroveNotFoundError):
        client.restore_snapshot(snap.snapshot_id)
    events = admin_client.list_events(namespace=namespace, limit=2).events
    assert [e.type for e in events] == ["namespace.deleted", "snapshot.deleted"]
    assert (events[0].data.namespace, events[0].data.files_deleted) == (namespace, 2)


def test_deleting_a_namespace_stops_the_commands_running_in_it(admin_client, client):
    """A command still writing would refill directories as they are removed (that was a 500
    and a half-deleted namespace)."""
    results = []
    writer = threading.Thread(
        target=lambda: results.append(
            client.exec_detailed(
                "i=0; while true; do i=$((i+1)); mkdir -p workspace/d$i; echo $i > workspace/d$i/f;"
                " done",
                timeout_s=20,
            )
        )
    )
    writer.start()
    wait_until(lambda: len(client.list_dir()) > 20)
    admin_client.delete_namespace(client.namespace)
    writer.join(10)
    (result,) = results
    assert result.exit_code == 137
    assert "its namespace was deleted" in result.stderr
    assert list(client.list_dir()) == []


def test_deleting_an_unknown_namespace_is_404(admin_client):
    with pytest.raises(TroveNotFoundError):
        admin_client.delete_namespace("never-used-namespace")


@pytest.mark.parametrize("name", ["-bad", "alice\n"])
def test_deleting_an_invalid_namespace_name_is_422(admin_client, name):
    with pytest.raises(TroveError) as info:
        admin_client.delete_namespace(name)
    assert info.value.status_code == 422


def test_workspace_keys_cannot_delete_namespaces(trove_server, namespace):
    from trove_sdk import TroveAdminClient

    with (
        TroveAdminClient(
            trove_server.api_key, trove_server.workspace_id, base_url=trove_server.base_url
        ) as not_admin,
        pytest.raises(TroveAuthError) as info,
    ):
        not_admin.delete_namespace(namespace)
    assert info.value.message == "Workspace keys cannot delete namespaces."


def test_a_locked_key_lists_only_its_own_namespace(trove_server, client, namespace):
    from trove_sdk import TroveAdminClient

    client.write("x", "x")
    locked = trove_server.create_key("ns-lister", namespace=namespace)
    with TroveAdminClient(
        locked.api_key, trove_server.workspace_id, base_url=trove_server.base_url
    ) as lister:
        assert [n.name for n in lister.list_namespaces()] == [namespace]
