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
