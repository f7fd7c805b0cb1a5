"""``trove keys list|create|revoke`` with an admin key (and what a workspace key gets)."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Trove
from tests.cli.runner import json_out


def test_create_prints_the_secret_once_with_its_metadata(admin: Trove, trove_server: Any) -> None:
    result = admin("keys", "create", "ci-bot", "--namespace", "alice")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "✓ key created (this secret is shown once — copy it now)"
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines[2:])}
    assert fields["api_key"].startswith("trove-sk-")
    assert (fields["name"], fields["scope"], fields["namespace"]) == (
        "ci-bot",
        "workspace",
        "alice",
    )
    with trove_server.client("alice", api_key=fields["api_key"]) as client:
        assert client.me().namespace == "alice"


def test_create_json_includes_the_key(admin: Trove) -> None:
    data = json_out(admin("keys", "create", "admin-2", "--admin", "--json"))
    assert data["scope"] == "admin" and data["api_key"].startswith("trove-sk-")


def test_an_admin_key_cannot_be_locked_to_a_namespace(admin: Trove) -> None:
    result = admin("keys", "create", "x", "--admin", "--namespace", "alice")
    assert result.exit_code == 1
    assert "--admin and --namespace cannot be combined" in result.stderr


def test_list_shows_a_table_of_active_keys(admin: Trove) -> None:
    created = json_out(admin("keys", "create", "listed", "--json"))
    result = admin("keys", "list")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["KEY", "ID", "NAME", "SCOPE", "NAMESPACE", "CREATED", "PREFIX"]
    assert any(row.startswith(created["key_id"]) and "listed" in row for row in rows)


def test_list_json_has_no_secrets(admin: Trove, trove_server: Any) -> None:
    data = json_out(admin("keys", "list", "--json"))
    assert {"key_id", "name", "prefix", "scope", "namespace", "created_at"} <= set(data["keys"][0])
    assert trove_server.admin_key not in str(data)


def test_revoke_takes_effect_at_once(admin: Trove, trove_server: Any) -> None:
    created = json_out(admin("keys", "create", "doomed", "--json"))
    result = admin("keys", "revoke", created["key_id"], "-y")
    assert result.stdout == f"revoked {created['key_id']}\n"
    listed = json_out(admin("keys", "list", "--json"))
    assert created["key_id"] not in [k["key_id"] for k in listed["keys"]]


def test_revoke_json_says_what_was_revoked(admin: Trove) -> None:
    created = json_out(admin("keys", "create", "doomed", "--json"))
    revoked = json_out(admin("keys", "revoke", created["key_id"], "-y", "--json"))
    assert revoked == {"key_id": created["key_id"], "revoked": True}


def test_revoke_asks_first(admin: Trove) -> None:
    created = json_out(admin("keys", "create", "kept", "--json"))
    assert admin("keys", "revoke", created["key_id"], input="n\n").exit_code == 1
    assert created["key_id"] in admin("keys", "list").stdout


def test_revoking_an_unknown_key_says_not_found(admin: Trove) -> None:
    result = admin("keys", "revoke", "key-000000000000", "-y")
    assert (result.exit_code, result.stderr) == (1, "error: key not found: key-000000000000\n")


def test_a_workspace_key_gets_exit_2(trove: Trove) -> None:
    result = trove("keys", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: HTTP 403 — ")
