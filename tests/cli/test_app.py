"""What commands share: the namespace precedence and the client factories."""

from __future__ import annotations

import pytest

from trove_cli.app import App
from trove_cli.config import Config, Profile
from trove_cli.errors import CLIError


@pytest.fixture
def app(trove_home: str) -> App:
    Config().save(
        Profile(name="default", api_key="trove-sk-x", workspace_id="ws-1", namespace="from-profile")
    )
    return App()


def test_the_flag_wins(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROVE_NAMESPACE", "from-env")
    assert app.namespace("from-flag") == "from-flag"


def test_the_env_var_wins_over_the_profile(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROVE_NAMESPACE", "from-env")
    assert app.namespace(None) == "from-env"


def test_the_profile_namespace_is_the_fallback(app: App) -> None:
    assert app.namespace(None) == "from-profile"


def test_no_namespace_anywhere_is_an_error_saying_how_to_set_one(trove_home: str) -> None:
    Config().save(Profile(name="default", api_key="trove-sk-x", workspace_id="ws-1"))
    with pytest.raises(
        CLIError, match="no namespace set: pass -n/--namespace, set TROVE_NAMESPACE"
    ):
        App().namespace(None)


def test_a_profile_without_a_workspace_id_cannot_make_an_admin_client(trove_home: str) -> None:
    Config().save(Profile(name="default", api_key="trove-sk-x", workspace_id="oops"))
    with pytest.raises(CLIError, match="no valid workspace id"):
        App().admin()


def test_clients_use_the_profiles_server_and_key(app: App) -> None:
    with app.client("alice") as client:
        assert (client.namespace, client.base_url) == ("alice", "https://api.trovefiles.dev")


def test_a_base_url_without_a_scheme_is_refused_naming_where_it_came_from(
    trove_home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TROVE_API_KEY", "trove-sk-x")
    monkeypatch.setenv("TROVE_WORKSPACE_ID", "ws-1")
    monkeypatch.setenv("TROVE_BASE_URL", "localhost:8787")
    with pytest.raises(CLIError, match=r"TROVE_BASE_URL is unusable: .*'http://localhost:8787'"):
        App().profile()


def test_a_saved_profile_with_a_broken_base_url_is_named(trove_home: str) -> None:
    Config().save(Profile(name="old", api_key="k", workspace_id="ws-1", base_url="ftp://x"))
    with pytest.raises(CLIError, match="the base URL of profile 'old' is unusable"):
        App(profile_name="old").profile()
