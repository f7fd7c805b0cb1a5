"""``trove namespaces list|delete`` (extension X6)."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Trove
from tests.cli.runner import json_out


def test_list_shows_each_namespace_with_its_files(
    admin: Trove, client: Any, namespace: str
) -> None:
    client.write("workspace/a.txt", "abc")
    rows = admin("namespaces", "list").stdout.splitlines()
    assert rows[0].split() == ["NAMESPACE", "FILES", "SIZE", "MODIFIED"]
    [row] = [r for r in rows if r.startswith(namespace + " ")]
    assert row.split()[1:3] == ["1", "3B"]


def test_list_json(admin: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "abc")
    entries = {n["name"]: n for n in json_out(admin("namespaces", "list", "--json"))["namespaces"]}
    assert (entries[namespace]["file_count"], entries[namespace]["size_bytes"]) == (1, 3)


def test_delete_removes_the_namespace_and_its_files(
    admin: Trove, trove: Trove, client: Any, namespace: str
) -> None:
    client.write("workspace/a.txt", "abc")
    result = admin("namespaces", "delete", namespace, "-y")
    assert result.stdout == f"deleted namespace {namespace} (1 files)\n"
    assert trove("ls").stdout == "(empty)\n"


def test_delete_json_counts_the_files(admin: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "abc")
    client.write("workspace/b.txt", "abc")
    deleted = json_out(admin("namespaces", "delete", namespace, "-y", "--json"))
    assert deleted == {"namespace": namespace, "files_deleted": 2}


def test_delete_asks_first(admin: Trove, client: Any, namespace: str) -> None:
    client.write("workspace/a.txt", "abc")
    assert admin("namespaces", "delete", namespace, input="n\n").exit_code == 1
    assert client.read_text("workspace/a.txt") == "abc"
