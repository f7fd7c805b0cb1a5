"""Profiles (CONTRACT §5.2): where they live, how one is chosen, how they are written."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from trove_cli import config as cli_config
from trove_cli.config import Config, Profile, ProfileNotFound

KEY = "trove-sk-" + "a" * 32


def profile(name: str = "default", **fields: object) -> Profile:
    values: dict[str, object] = {"api_key": KEY, "workspace_id": "ws-0123456789abcdef"}
    values.update(fields)
    return Profile(name=name, **values)  # type: ignore[arg-type]


def test_the_env_names_and_default_url_match_the_sdk() -> None:
    from trove_sdk import _config as sdk

    assert cli_config.DEFAULT_BASE_URL == sdk.DEFAULT_BASE_URL
    assert (
        cli_config.ENV_API_KEY,
        cli_config.ENV_WORKSPACE_ID,
        cli_config.ENV_NAMESPACE,
        cli_config.ENV_BASE_URL,
    ) == (sdk.ENV_API_KEY, sdk.ENV_WORKSPACE_ID, sdk.ENV_NAMESPACE, sdk.ENV_BASE_URL)


def test_trove_home_moves_the_config_file(trove_home: str) -> None:
    assert Config().path == Path(trove_home) / "config.json"


def test_the_file_is_written_0600_with_the_contract_layout(trove_home: str) -> None:
    Config().save(profile(namespace="alice"))
    path = Path(trove_home) / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["profiles"]["default"] == {
        "api_key": KEY,
        "workspace_id": "ws-0123456789abcdef",
        "base_url": "https://api.trovefiles.dev",
        "namespace": "alice",
    }


def test_an_unset_namespace_is_not_written(trove_home: str) -> None:
    Config().save(profile())
    data = json.loads((Path(trove_home) / "config.json").read_text())
    assert "namespace" not in data["profiles"]["default"]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"profiles": 3}', ""])
def test_a_corrupt_file_reads_as_empty(trove_home: str, content: str) -> None:
    os.makedirs(trove_home)
    (Path(trove_home) / "config.json").write_text(content)
    assert Config().profile_names == []


def test_env_vars_make_a_synthetic_profile_when_no_profile_is_named() -> None:
    env = {
        "TROVE_API_KEY": KEY,
        "TROVE_WORKSPACE_ID": "ws-env",
        "TROVE_NAMESPACE": "bob",
        "TROVE_BASE_URL": "http://127.0.0.1:9/",
    }
    resolved = Config(Path("/nonexistent/config.json")).resolve(None, env)
    assert (resolved.name, resolved.source) == ("env", "env")
    assert (resolved.workspace_id, resolved.namespace) == ("ws-env", "bob")
    assert resolved.base_url == "http://127.0.0.1:9"


def test_a_named_profile_wins_over_env_vars(trove_home: str) -> None:
    config = Config()
    config.save(profile("staging", workspace_id="ws-staging"))
    env = {"TROVE_API_KEY": KEY, "TROVE_WORKSPACE_ID": "ws-env"}
    assert config.resolve("staging", env).workspace_id == "ws-staging"


def test_env_vars_need_both_key_and_workspace(trove_home: str) -> None:
    config = Config()
    config.save(profile())
    assert config.resolve(None, {"TROVE_API_KEY": KEY}).name == "default"


def test_the_saved_default_profile_is_used_when_none_is_named(trove_home: str) -> None:
    config = Config()
    config.save(profile("local", workspace_id="ws-local"), make_default=True)
    assert Config().resolve(None, {}).name == "local"


def test_a_missing_profile_names_the_saved_ones_and_the_fix(trove_home: str) -> None:
    config = Config()
    config.save(profile("a"))
    with pytest.raises(ProfileNotFound, match=r"no profile named 'x' \(saved profiles: a\); run"):
        config.resolve("x", {})


def test_the_local_listen_secret_of_a_saved_profile_lives_in_it(trove_home: str) -> None:
    config = Config()
    config.save(profile())
    config.save_listen_secret(config.get("default"), "trove-whsec-local")
    assert Config().get("default").listen_secret == "trove-whsec-local"


def test_the_env_profile_keeps_its_listen_secret_beside_the_profiles(trove_home: str) -> None:
    config = Config()
    env_profile = config.resolve(None, {"TROVE_API_KEY": KEY, "TROVE_WORKSPACE_ID": "ws-e"})
    config.save_listen_secret(env_profile, "trove-whsec-env")
    again = Config()
    assert again.listen_secret(
        again.resolve(None, {"TROVE_API_KEY": KEY, "TROVE_WORKSPACE_ID": "ws-e"})
    ) == ("trove-whsec-env")
    assert again.profile_names == []


def test_deleting_the_default_profile_forgets_that_it_was_default(trove_home: str) -> None:
    config = Config()
    config.save(profile("local"), make_default=True)
    assert config.delete("local")
    assert Config().default_profile == "default"
    assert not Config().delete("local")


def test_saving_over_an_unreadable_file_keeps_it_aside(
    trove_home: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand edit that broke the JSON must not cost the profiles it still holds."""
    os.makedirs(trove_home)
    broken = '{"profiles": {"prod": {"api_key": "trove-sk-prod",},}}'
    (Path(trove_home) / "config.json").write_text(broken)
    config = Config()
    config.save(profile("new"))
    assert config.set_aside is not None
    assert config.set_aside.read_text() == broken
    assert stat.S_IMODE(config.set_aside.stat().st_mode) == 0o600
    assert Config().profile_names == ["new"]
    assert f"it was kept as {config.set_aside}" in capsys.readouterr().err


def test_a_readable_file_is_updated_in_place(trove_home: str) -> None:
    Config().save(profile("a"))
    config = Config()
    config.save(profile("b"))
    assert config.set_aside is None
    assert os.listdir(trove_home) == ["config.json"]
