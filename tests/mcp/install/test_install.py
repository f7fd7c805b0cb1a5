"""install / uninstall / status over every client's config file, on every OS layout."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mcp.session import PLATFORMS
from trove_mcp.install import (
    CLIENTS,
    Host,
    build_entry,
    install_client,
    minted_key_id,
    status,
    uninstall_client,
)

KEY = "trove-sk-" + "0" * 32
ENTRY = build_entry(KEY, "alice", base_url="http://127.0.0.1:8787")
OTHER = {"command": "npx", "args": ["-y", "some-server"]}
LAYOUTS = [(client, platform) for client in CLIENTS for platform in PLATFORMS]


def servers_of(path: Path, client: str) -> dict[str, object]:
    data = json.loads(path.read_text())
    servers: dict[str, object] = data[CLIENTS[client].servers_key]
    return servers


def test_the_entry_runs_this_interpreter_by_absolute_path() -> None:
    entry = build_entry(KEY, "alice")
    assert entry["command"] == os.path.abspath(sys.executable)
    assert os.path.isabs(entry["command"])
    assert entry["args"] == ["-m", "trove_mcp"]


def test_the_entry_names_the_base_url_only_when_it_is_not_the_default() -> None:
    assert build_entry(KEY, "a")["env"] == {"TROVE_API_KEY": KEY, "TROVE_NAMESPACE": "a"}
    assert build_entry(KEY, "a", base_url="https://api.trovefiles.dev/")["env"] == {
        "TROVE_API_KEY": KEY,
        "TROVE_NAMESPACE": "a",
    }
    assert build_entry(KEY, "a", base_url="http://h:1/")["env"]["TROVE_BASE_URL"] == "http://h:1"


def test_a_minted_key_is_remembered_by_its_id() -> None:
    assert build_entry(KEY, "a", key_id="key-1")["env"]["TROVE_KEY_ID"] == "key-1"


@pytest.mark.parametrize(("client", "platform"), LAYOUTS, ids="-".join)
def test_install_writes_the_entry_where_each_client_reads_it(
    client: str, platform: str, make_host: Callable[[str], Host]
) -> None:
    host = make_host(platform)
    outcome = install_client(client, ENTRY, host=host)
    assert outcome.ok and outcome.changed
    assert outcome.path == CLIENTS[client].path(host)
    expected = {**CLIENTS[client].entry_fields, **ENTRY}
    assert servers_of(outcome.path, client) == {"trove": expected}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_install_preserves_other_servers_and_settings(
    client: str, make_host: Callable[[str], Host]
) -> None:
    host = make_host("linux")
    path = CLIENTS[client].path(host)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = CLIENTS[client].servers_key
    path.write_text(json.dumps({"theme": "dark", key: {"other": OTHER}}))
    install_client(client, ENTRY, host=host)
    data = json.loads(path.read_text())
    assert data["theme"] == "dark"
    assert data[key]["other"] == OTHER
    assert set(data[key]) == {"other", "trove"}


def test_installing_twice_replaces_the_entry(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    install_client("cursor", build_entry(KEY, "old"), host=host)
    outcome = install_client("cursor", ENTRY, host=host)
    assert servers_of(outcome.path, "cursor") == {"trove": ENTRY}
    assert outcome.backup is not None
    assert servers_of(outcome.backup, "cursor")["trove"]["env"]["TROVE_NAMESPACE"] == "old"  # type: ignore[index]


def test_installing_the_same_entry_again_leaves_the_file_alone(
    make_host: Callable[[str], Host],
) -> None:
    host = make_host("linux")
    first = install_client("cursor", ENTRY, host=host)
    again = install_client("cursor", ENTRY, host=host)
    assert (again.ok, again.changed, again.message) == (True, False, "'trove' already up to date")
    assert not first.path.with_name("mcp.json.bak").exists()


def test_install_reports_the_entry_it_replaced(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    old = build_entry(KEY, "a", key_id="key-old")
    install_client("cursor", old, host=host)
    outcome = install_client("cursor", ENTRY, host=host)
    assert outcome.replaced == old
    assert outcome.minted_key_id is None
    assert minted_key_id(outcome.replaced) == "key-old"


def test_a_server_name_other_than_trove(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    outcome = install_client("cursor", ENTRY, name="trove-work", host=host)
    assert outcome.message == "wrote 'trove-work'"
    assert set(servers_of(outcome.path, "cursor")) == {"trove-work"}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"mcpServers": []}'])
def test_install_refuses_a_file_it_cannot_merge_into_and_leaves_it_untouched(
    text: str, make_host: Callable[[str], Host]
) -> None:
    host = make_host("linux")
    path = CLIENTS["cursor"].path(host)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    outcome = install_client("cursor", ENTRY, host=host)
    assert not outcome.ok and not outcome.changed
    assert "left it untouched" in outcome.message
    assert path.read_text() == text
    assert not (path.parent / "mcp.json.bak").exists()


def test_install_reports_an_unwritable_directory(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    (host.home / ".codeium").write_text("")
    outcome = install_client("windsurf", ENTRY, host=host)
    assert not outcome.ok
    assert outcome.message.startswith(f"cannot write {CLIENTS['windsurf'].path(host)}")


@pytest.mark.parametrize("client", list(CLIENTS))
def test_uninstall_removes_only_our_entry(client: str, make_host: Callable[[str], Host]) -> None:
    host = make_host("darwin")
    path = CLIENTS[client].path(host)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = CLIENTS[client].servers_key
    path.write_text(json.dumps({key: {"other": OTHER}}))
    install_client(client, ENTRY, host=host)
    outcome = uninstall_client(client, host=host)
    assert outcome.ok and outcome.changed
    assert outcome.message == "removed 'trove'"
    assert outcome.entry == {**CLIENTS[client].entry_fields, **ENTRY}
    assert json.loads(path.read_text()) == {key: {"other": OTHER}}


def test_uninstall_drops_a_servers_object_it_emptied(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    path = install_client("vscode", ENTRY, host=host).path
    uninstall_client("vscode", host=host)
    assert json.loads(path.read_text()) == {}


def test_uninstall_without_a_file_or_entry_is_not_an_error(
    make_host: Callable[[str], Host],
) -> None:
    host = make_host("linux")
    missing = uninstall_client("cursor", host=host)
    assert (missing.ok, missing.changed, missing.message) == (True, False, "'trove' not present")
    install_client("cursor", ENTRY, name="other", host=host)
    absent = uninstall_client("cursor", host=host)
    assert (absent.ok, absent.changed) == (True, False)
    assert set(servers_of(absent.path, "cursor")) == {"other"}


def test_uninstall_refuses_invalid_json_untouched(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    path = host.cwd / ".mcp.json"
    path.write_text("{oops")
    outcome = uninstall_client("claude-code", host=host)
    assert not outcome.ok
    assert path.read_text() == "{oops"


def test_status_reports_every_client_without_the_key(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    install_client("cursor", build_entry(KEY, "alice", key_id="key-9"), host=host)
    CLIENTS["vscode"].path(host).parent.mkdir(parents=True)
    rows = {row.client: row for row in status(host=host)}
    assert list(rows) == list(CLIENTS)
    cursor = rows["cursor"]
    assert (cursor.configured, cursor.namespace, cursor.key_id) == (True, "alice", "key-9")
    assert cursor.base_url == "https://api.trovefiles.dev"
    assert cursor.command_exists is True
    assert (rows["vscode"].configured, rows["vscode"].config_exists) == (False, False)
    assert KEY not in json.dumps([row.to_json() for row in rows.values()])


def test_status_flags_an_interpreter_that_no_longer_exists(
    make_host: Callable[[str], Host], tmp_path: Path
) -> None:
    host = make_host("linux")
    gone = str(tmp_path / "old-venv" / "bin" / "python")
    install_client("cursor", build_entry(KEY, "a", python=gone), host=host)
    (row,) = [r for r in status(host=host) if r.client == "cursor"]
    assert (row.command, row.command_exists) == (gone, False)


def test_status_reports_a_broken_file_as_an_error(make_host: Callable[[str], Host]) -> None:
    host = make_host("linux")
    path = CLIENTS["windsurf"].path(host)
    path.parent.mkdir(parents=True)
    path.write_text("{")
    (row,) = [r for r in status(host=host) if r.client == "windsurf"]
    assert row.configured is False
    assert row.error is not None and "not valid JSON" in row.error
