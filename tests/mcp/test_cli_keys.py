"""``trove mcp install`` checks the key it copies, and ``--mint-key`` gives each client a key
of its own, locked to the namespace — against the real local server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.mcp.session import Connect, text_of
from trove_cli.config import Config, Profile
from trove_cli.root import cli
from trove_mcp.settings import Settings
from trove_sdk import TroveAdminClient, TroveAuthError, TroveClient


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trove_home: str) -> Path:
    """An empty home and project directory; profiles are added per test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


def save(trove_server: Any, api_key: str, name: str = "default") -> None:
    Config().save(
        Profile(
            name=name,
            api_key=api_key,
            workspace_id=trove_server.workspace_id,
            base_url=trove_server.base_url,
        )
    )


def trove(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def entry_env(home: Path) -> dict[str, str]:
    data = json.loads((home / ".cursor" / "mcp.json").read_text())
    env: dict[str, str] = data["mcpServers"]["trove"]["env"]
    return env


def test_a_working_key_is_checked_and_copied(home: Path, trove_server: Any, namespace: str) -> None:
    save(trove_server, trove_server.api_key)
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace)
    assert result.exit_code == 0, result.output
    assert "could not check" not in result.stderr
    assert entry_env(home)["TROVE_API_KEY"] == trove_server.api_key
    assert "TROVE_KEY_ID" not in entry_env(home)


def test_an_admin_key_is_refused_with_the_mint_key_hint(
    home: Path, trove_server: Any, namespace: str
) -> None:
    save(trove_server, trove_server.admin_key)
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace)
    assert result.exit_code == 1
    assert "holds an admin key, which cannot use files or exec" in result.stderr
    assert "--mint-key" in result.stderr
    assert not (home / ".cursor").exists()


def test_a_key_locked_to_another_namespace_is_refused(
    home: Path, trove_server: Any, namespace: str
) -> None:
    locked = trove_server.create_key("locked", namespace="elsewhere")
    save(trove_server, locked.api_key)
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace)
    assert result.exit_code == 1
    assert f"locked to namespace 'elsewhere', not '{namespace}'" in result.stderr
    assert not (home / ".cursor").exists()


def test_a_refused_key_exits_2(home: Path, trove_server: Any, namespace: str) -> None:
    save(trove_server, "trove-sk-" + "9" * 32)
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: HTTP 401")
    assert not (home / ".cursor").exists()


def test_mint_key_gives_each_client_its_own_locked_key(
    home: Path, trove_server: Any, namespace: str, admin_client: TroveAdminClient
) -> None:
    save(trove_server, trove_server.admin_key)
    (home / ".codeium" / "windsurf").mkdir(parents=True)
    result = trove(
        "mcp", "install", "--client", "cursor", "--client", "windsurf", "-n", namespace,
        "--mint-key",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cursor = entry_env(home)
    windsurf = json.loads((home / ".codeium" / "windsurf" / "mcp_config.json").read_text())[
        "mcpServers"
    ]["trove"]["env"]
    assert cursor["TROVE_API_KEY"] != windsurf["TROVE_API_KEY"]
    assert trove_server.admin_key not in (cursor["TROVE_API_KEY"], windsurf["TROVE_API_KEY"])
    keys = {k.key_id: k for k in admin_client.list_keys()}
    for env, client in ((cursor, "cursor"), (windsurf, "windsurf")):
        key = keys[env["TROVE_KEY_ID"]]
        assert (key.namespace, key.scope, key.name) == (
            namespace,
            "workspace",
            f"mcp-{client}-{namespace}",
        )
    assert f"key {cursor['TROVE_KEY_ID']} minted for Cursor, locked to {namespace}" in (
        result.stderr
    )


async def test_a_minted_key_works_through_the_mcp_server(
    home: Path, trove_server: Any, namespace: str, connect: Connect
) -> None:
    save(trove_server, trove_server.admin_key)
    assert (
        trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key").exit_code == 0
    )
    env = entry_env(home)
    minted = Settings(env["TROVE_API_KEY"], env["TROVE_NAMESPACE"], env["TROVE_BASE_URL"])
    async with connect(minted) as session:
        result = await session.call_tool("trove_exec", {"command": "echo minted"})
    assert text_of(result) == "[exit 0]\nminted\n"


def test_mint_key_needs_an_admin_profile(home: Path, trove_server: Any, namespace: str) -> None:
    save(trove_server, trove_server.api_key)
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    assert result.exit_code == 2
    assert "--mint-key needs a profile with an admin key" in result.stderr
    assert not (home / ".cursor").exists()


def test_a_minted_key_is_revoked_when_its_config_cannot_be_written(
    home: Path, trove_server: Any, namespace: str, admin_client: TroveAdminClient
) -> None:
    save(trove_server, trove_server.admin_key)
    (home / ".cursor").write_text("")  # a file where the config directory should be
    before = {k.key_id for k in admin_client.list_keys()}
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    assert result.exit_code == 1
    assert "✗ Cursor: cannot write" in result.stderr
    assert {k.key_id for k in admin_client.list_keys()} == before


def test_uninstall_revokes_a_minted_key_when_asked(
    home: Path, trove_server: Any, namespace: str
) -> None:
    save(trove_server, trove_server.admin_key)
    trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    env = entry_env(home)
    result = trove("mcp", "uninstall", "--revoke-key")
    assert result.exit_code == 0, result.output
    assert f"revoked {env['TROVE_KEY_ID']}" in result.stdout
    with (
        TroveClient(env["TROVE_API_KEY"], namespace, base_url=trove_server.base_url) as sdk,
        pytest.raises(TroveAuthError),
    ):
        sdk.list_dir()


def test_uninstall_keeps_a_minted_key_without_a_terminal_and_says_how_to_revoke(
    home: Path, trove_server: Any, namespace: str, admin_client: TroveAdminClient
) -> None:
    save(trove_server, trove_server.admin_key)
    trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    key_id = entry_env(home)["TROVE_KEY_ID"]
    result = trove("mcp", "uninstall")
    assert result.exit_code == 0
    assert f"`trove keys revoke {key_id}`" in result.stderr
    assert key_id in {k.key_id for k in admin_client.list_keys()}


def test_reinstalling_with_mint_key_revokes_the_key_it_replaces(
    home: Path, trove_server: Any, namespace: str, admin_client: TroveAdminClient
) -> None:
    save(trove_server, trove_server.admin_key)
    trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    first = entry_env(home)["TROVE_KEY_ID"]
    result = trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    second = entry_env(home)["TROVE_KEY_ID"]
    assert result.exit_code == 0, result.output
    assert f"revoked {first}, replaced" in result.stderr
    active = {k.key_id for k in admin_client.list_keys()}
    assert second in active and first not in active


def test_uninstall_json_says_which_minted_keys_it_revoked(
    home: Path, trove_server: Any, namespace: str, admin_client: TroveAdminClient
) -> None:
    save(trove_server, trove_server.admin_key)
    trove("mcp", "install", "--client", "cursor", "-n", namespace, "--mint-key")
    key_id = entry_env(home)["TROVE_KEY_ID"]
    result = trove("mcp", "uninstall", "--revoke-key", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["clients"]
    assert (row["client"], row["key_id"], row["key_revoked"]) == ("cursor", key_id, True)
    assert key_id not in {k.key_id for k in admin_client.list_keys()}
