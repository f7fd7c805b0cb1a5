"""Where the server's key, namespace and base URL come from, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from trove_cli.config import Config, Profile
from trove_mcp.settings import DEFAULT_BASE_URL, Settings, SettingsError, load_settings

KEY = "trove-sk-" + "1" * 32


def test_the_environment_is_enough() -> None:
    settings = load_settings(env={"TROVE_API_KEY": KEY, "TROVE_NAMESPACE": "alice"})
    assert (settings.api_key, settings.namespace, settings.base_url) == (
        KEY,
        "alice",
        DEFAULT_BASE_URL,
    )
    assert settings.source == "environment"


def test_the_base_url_comes_from_the_environment_without_its_trailing_slash() -> None:
    env = {"TROVE_API_KEY": KEY, "TROVE_NAMESPACE": "a", "TROVE_BASE_URL": "http://h:1/"}
    assert load_settings(env=env).base_url == "http://h:1"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TROVE_API_KEY and TROVE_NAMESPACE are not set"),
        ({"TROVE_API_KEY": KEY}, "TROVE_NAMESPACE is not set"),
        ({"TROVE_NAMESPACE": "a", "TROVE_API_KEY": "  "}, "TROVE_API_KEY is not set"),
    ],
)
def test_missing_variables_are_named_with_the_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env)
    assert named in str(caught.value)
    assert "trove mcp install" in str(caught.value)
    assert "--profile" in str(caught.value)


def test_a_namespace_argument_fills_in_for_the_variable() -> None:
    assert load_settings(env={"TROVE_API_KEY": KEY}, namespace="bob").namespace == "bob"


@pytest.mark.parametrize("bad", ["a b", "-lead", "x" * 65, "../etc", "a\nb"])
def test_an_invalid_namespace_is_refused(bad: str) -> None:
    with pytest.raises(SettingsError, match="is not valid"):
        load_settings(env={"TROVE_API_KEY": KEY, "TROVE_NAMESPACE": bad})


def test_a_base_url_without_a_scheme_is_refused() -> None:
    env = {"TROVE_API_KEY": KEY, "TROVE_NAMESPACE": "a", "TROVE_BASE_URL": "localhost:8787"}
    with pytest.raises(SettingsError, match="must start with http:// or https://"):
        load_settings(env=env)


def test_the_key_never_appears_in_a_repr() -> None:
    assert KEY not in repr(Settings(KEY, "alice"))


def save_profile(path: Path, **fields: object) -> None:
    values: dict[str, object] = {
        "name": "work",
        "api_key": KEY,
        "workspace_id": "ws-0123456789abcdef",
        "base_url": "http://127.0.0.1:9999",
    }
    values.update(fields)
    Config(path).save(Profile(**values))  # type: ignore[arg-type]


def test_a_profile_supplies_key_base_url_and_namespace(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_profile(path, namespace="alice")
    settings = load_settings(profile="work", env={}, config_path=path)
    assert (settings.api_key, settings.namespace, settings.base_url) == (
        KEY,
        "alice",
        "http://127.0.0.1:9999",
    )
    assert settings.source == "profile 'work'"


def test_the_namespace_option_and_variable_override_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_profile(path, namespace="alice")
    env = {"TROVE_NAMESPACE": "bob"}
    assert load_settings(profile="work", env=env, config_path=path).namespace == "bob"
    chosen = load_settings(profile="work", namespace="carol", env=env, config_path=path)
    assert chosen.namespace == "carol"


def test_a_profile_without_a_namespace_needs_one(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_profile(path)
    with pytest.raises(SettingsError, match="profile 'work' has no namespace: pass --namespace"):
        load_settings(profile="work", env={}, config_path=path)


def test_an_unknown_profile_names_the_saved_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_profile(path, namespace="a")
    with pytest.raises(SettingsError, match=r"no profile named 'home' \(saved profiles: work\)"):
        load_settings(profile="home", env={}, config_path=path)


@pytest.mark.parametrize(
    "bad", ["trove-sk-abc\ndef", "trove-sk-abc def", "trove-sk-abcé", "trove-sk-abc\x00"]
)
def test_a_key_no_http_header_can_carry_is_refused_without_being_echoed(bad: str) -> None:
    """httpx's refusal of such a header quotes it, key and all, into the tool's error."""
    with pytest.raises(SettingsError, match="copy the key again") as caught:
        load_settings(env={"TROVE_API_KEY": bad, "TROVE_NAMESPACE": "a"})
    assert "trove-sk-abc" not in str(caught.value)
