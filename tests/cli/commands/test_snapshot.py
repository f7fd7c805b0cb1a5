"""``trove snapshot create|list|restore|delete`` in the profile's namespace."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Trove
from tests.cli.runner import json_out


def test_create_list_restore_delete(trove: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "before")
    created = trove("snapshot", "create", "--label", "before-refactor")
    assert created.exit_code == 0
    assert created.stdout.startswith("✓ snapshot snap-")
    assert created.stdout.rstrip().endswith(f"namespace={namespace}")
    snap_id = created.stdout.split()[2]

    listing = trove("snapshot", "list").stdout.splitlines()
    assert listing[0].split() == ["SNAPSHOT", "ID", "SIZE", "CREATED", "LABEL"]
    assert listing[1].startswith(snap_id) and listing[1].endswith("before-refactor")

    client.write("workspace/a.txt", "after")
    client.write("workspace/b.txt", "new")
    restored = trove("snapshot", "restore", snap_id, "-y")
    assert restored.stdout == f"restored {snap_id} → namespace {namespace}  (files_restored=1)\n"
    assert client.read_text("workspace/a.txt") == "before"
    assert trove("ls").stdout == "a.txt\n"

    assert trove("snapshot", "delete", snap_id, "-y").stdout == f"deleted {snap_id}\n"
    assert trove("snapshot", "list").stdout == f"(no snapshots in namespace {namespace})\n"


def test_json_forms(trove: Trove) -> None:
    snap = json_out(trove("snapshot", "create", "--json"))
    assert snap["label"] is None and snap["snapshot_id"].startswith("snap-")
    assert [
        s["snapshot_id"] for s in json_out(trove("snapshot", "list", "--json"))["snapshots"]
    ] == [snap["snapshot_id"]]


def test_restore_and_delete_json(trove: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "x")
    snap_id = json_out(trove("snapshot", "create", "--json"))["snapshot_id"]
    restored = json_out(trove("snapshot", "restore", snap_id, "-y", "--json"))
    assert restored == {"snapshot_id": snap_id, "namespace": namespace, "files_restored": 1}
    deleted = json_out(trove("snapshot", "delete", snap_id, "-y", "--json"))
    assert deleted == {"snapshot_id": snap_id, "deleted": True}


def test_restore_asks_before_wiping(trove: Trove, client: Any) -> None:
    client.write("workspace/a.txt", "x")
    snap = json_out(trove("snapshot", "create", "--json"))
    client.write("workspace/b.txt", "keep me")
    result = trove("snapshot", "restore", snap["snapshot_id"], input="n\n")
    assert result.exit_code == 1
    assert "WIPES its current files" in result.stderr
    assert client.read_text("workspace/b.txt") == "keep me"


def test_unknown_snapshots_are_not_found(trove: Trove) -> None:
    for verb in ("restore", "delete"):
        result = trove("snapshot", verb, "snap-000000000000", "-y")
        assert (result.exit_code, result.stderr) == (
            1,
            "error: snapshot not found: snap-000000000000\n",
        )


def test_a_label_over_128_characters_is_refused_locally(trove: Trove) -> None:
    result = trove("snapshot", "create", "--label", "x" * 129)
    assert result.exit_code == 1
    assert "--label is 129 characters; the limit is 128" in result.stderr
