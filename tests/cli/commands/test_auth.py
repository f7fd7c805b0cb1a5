"""``trove login``, ``logout``, ``whoami`` against the real server — including the browser
login, approved through the server's own approval page over HTTP."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import Trove
from tests.cli.receiver import free_port
from tests.cli.runner import TROVE, invoke, json_out
from trove_cli.config import Config
from trove_cli.humanize import mask_secret


def login(server: Any, *args: str, input: str | None = None) -> Any:
    return invoke("login", "--base-url", server.base_url, *args, input=input)


def test_login_with_a_key_saves_a_0600_profile_and_says_so(
    trove_home: str, trove_server: Any
) -> None:
    result = login(trove_server, "--api-key", trove_server.api_key, "--namespace", "alice")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"saved profile 'default' ({mask_secret(trove_server.api_key)})  "
        f"workspace={trove_server.workspace_id}  namespace=alice  scope=workspace\n"
    )
    saved = Config().get("default")
    assert (saved.api_key, saved.workspace_id, saved.base_url, saved.namespace) == (
        trove_server.api_key,
        trove_server.workspace_id,
        trove_server.base_url,
        "alice",
    )
    assert stat.S_IMODE(Config().path.stat().st_mode) == 0o600


def test_a_key_piped_on_stdin_is_used(trove_home: str, trove_server: Any) -> None:
    result = login(trove_server, "--save-as", "ci", input=trove_server.api_key + "\n")
    assert result.exit_code == 0, result.output
    assert Config().get("ci").api_key == trove_server.api_key


def test_a_namespace_locked_key_brings_its_namespace(trove_home: str, trove_server: Any) -> None:
    key = trove_server.create_key("locked", namespace="session-7")
    assert login(trove_server, "--api-key", key.api_key).exit_code == 0
    assert Config().get("default").namespace == "session-7"


def test_a_namespace_other_than_the_keys_lock_is_refused(
    trove_home: str, trove_server: Any
) -> None:
    key = trove_server.create_key("locked", namespace="session-8")
    result = login(trove_server, "--api-key", key.api_key, "--namespace", "other")
    assert result.exit_code == 1
    assert "it is locked to namespace session-8; drop --namespace" in result.stderr
    assert not Config().exists


def test_the_first_profile_becomes_the_default(trove_home: str, trove_server: Any) -> None:
    login(trove_server, "--api-key", trove_server.api_key, "--save-as", "local")
    assert Config().default_profile == "local"
    login(trove_server, "--api-key", trove_server.api_key, "--save-as", "other")
    assert Config().default_profile == "local"


def test_logging_in_without_a_name_makes_the_new_profile_the_one_used(
    trove_home: str, trove_server: Any
) -> None:
    """After `trove dev` made 'local' the default, a plain `trove login` still takes effect."""
    login(trove_server, "--api-key", trove_server.admin_key, "--save-as", "local")
    locked = trove_server.create_key("mine", namespace="mine")
    assert login(trove_server, "--api-key", locked.api_key).exit_code == 0
    assert Config().default_profile == "default"
    assert invoke("whoami").stdout.startswith("profile         : default\n")


def test_a_named_profile_that_is_not_the_default_says_how_to_use_it(
    trove_home: str, trove_server: Any
) -> None:
    login(trove_server, "--api-key", trove_server.api_key, "--save-as", "local")
    result = login(trove_server, "--api-key", trove_server.api_key, "--save-as", "ci")
    assert "'local' is still the default profile; use this one with `trove --profile ci" in (
        result.stderr
    )


def test_a_base_url_without_a_scheme_is_a_usage_error_with_the_fix(trove_home: str) -> None:
    result = invoke("login", "--api-key", "trove-sk-x", "--base-url", "localhost:8787")
    assert result.exit_code == 2
    assert "did you mean 'http://localhost:8787'?" in result.stderr
    assert not Config().exists


def test_login_json_describes_the_saved_profile_with_the_key_masked(
    trove_home: str, trove_server: Any
) -> None:
    saved = json_out(login(trove_server, "--api-key", trove_server.api_key, "--json"))
    assert saved == {
        "profile": "default",
        "api_key": mask_secret(trove_server.api_key),
        "workspace_id": trove_server.workspace_id,
        "base_url": trove_server.base_url,
        "namespace": None,
        "scope": "workspace",
        "default": True,
    }


def test_a_bad_key_exits_2_with_auth_failed(trove_home: str, trove_server: Any) -> None:
    result = login(trove_server, "--api-key", "trove-sk-" + "0" * 32)
    assert result.exit_code == 2
    assert "auth failed (HTTP 401)" in result.stderr
    assert not Config().exists


def test_a_workspace_that_is_not_the_keys_is_refused(trove_home: str, trove_server: Any) -> None:
    result = login(trove_server, "--api-key", trove_server.api_key, "--workspace", "ws-other")
    assert result.exit_code == 1
    assert f"does not match this key's workspace ({trove_server.workspace_id})" in result.stderr


def test_an_unreachable_server_exits_4_naming_the_url(trove_home: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("login", "--base-url", url, "--api-key", "trove-sk-x")
    assert result.exit_code == 4
    assert f"could not reach {url}/v1/me" in result.stderr


def test_the_deprecated_login_profile_flag_still_saves_with_a_warning(
    trove_home: str, trove_server: Any
) -> None:
    result = login(trove_server, "--api-key", trove_server.api_key, "--profile", "old")
    assert result.exit_code == 0
    assert "deprecated; use `--save-as X`" in result.stderr
    assert Config().profile_names == ["old"]


def test_browser_login_is_approved_on_the_servers_page(
    trove_home: str, trove_server: Any, tmp_path: Path
) -> None:
    """The CLI opens the verification URL (here: a BROWSER command that records it), the
    owner approves on the server's page, and the minted key is saved."""
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.py"
    recorder.write_text("import sys, pathlib\npathlib.Path(sys.argv[1]).write_text(sys.argv[2])\n")
    env = {**os.environ, "BROWSER": f"{sys.executable} {recorder} {opened} %s"}
    login = subprocess.Popen(
        [TROVE, "login", "--base-url", trove_server.base_url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not opened.exists() or not opened.read_text():
            assert login.poll() is None, login.communicate()
            assert time.monotonic() < deadline, "the CLI never opened the browser"
            time.sleep(0.05)
        url = opened.read_text()
        code = url.split("code=")[1]
        with httpx.Client(base_url=trove_server.base_url, follow_redirects=True) as browser:
            browser.get(trove_server.dashboard_url()).raise_for_status()
            page = browser.get(f"/device?code={code}")
            match = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert match is not None, page.text
            form = {"code": code, "csrf": match.group(1), "decision": "approve"}
            assert "Login approved" in browser.post("/device", data=form).text
        out, err = login.communicate(timeout=30)
    finally:
        if login.poll() is None:
            login.kill()
            login.communicate()
    assert login.returncode == 0, err
    assert f"Code: {code}" in err
    assert url in err
    assert out.startswith("saved profile 'default' (trove-sk-")
    saved = Config().get("default")
    assert saved.workspace_id == trove_server.workspace_id
    with trove_server.client("probe", api_key=saved.api_key) as client:
        assert client.me().workspace_id == trove_server.workspace_id


def test_logout_forgets_the_profile(trove: Trove) -> None:
    assert trove("logout").stdout == "removed profile 'default'\n"
    assert "default" not in Config().profile_names


def test_logout_of_an_unknown_profile_only_warns(trove_home: str) -> None:
    result = invoke("logout", "--profile", "ghost")
    assert (result.exit_code, result.stderr) == (0, "no profile 'ghost' to remove\n")


def test_whoami_shows_the_profile_and_the_key(
    trove: Trove, trove_server: Any, namespace: str
) -> None:
    result = trove("whoami")
    assert result.exit_code == 0
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert lines["profile         "].strip() == "default"
    assert lines["workspace       "].strip() == trove_server.workspace_id
    assert lines["api key         "].strip() == mask_secret(trove_server.api_key)
    assert lines["scope           "].strip() == "workspace"
    assert lines["default namespace"].strip().startswith(namespace)


def test_whoami_json(trove: Trove, trove_server: Any) -> None:
    data = json_out(trove("whoami", "--json"))
    assert (data["workspace_id"], data["scope"], data["reachable"]) == (
        trove_server.workspace_id,
        "workspace",
        True,
    )
    assert trove_server.api_key not in json.dumps(data)


def test_whoami_of_a_locked_key_shows_the_lock(trove_home: str, trove_server: Any) -> None:
    key = trove_server.create_key("locked", namespace="session-9")
    login(trove_server, "--api-key", key.api_key)
    assert "namespace lock  : session-9  (key is scoped" in invoke("whoami").stdout


def test_whoami_with_a_revoked_key_exits_2(trove_home: str, trove_server: Any) -> None:
    key = trove_server.create_key("soon-revoked")
    login(trove_server, "--api-key", key.api_key)
    with trove_server.admin() as admin:
        admin.revoke_key(key.key_id)
    result = invoke("whoami")
    assert result.exit_code == 2
    assert "the server rejected this key" in result.stderr


def test_whoami_offline_shows_the_local_profile_with_a_note(trove: Trove, profiles: Config) -> None:
    profiles.update("default", base_url=f"http://127.0.0.1:{free_port()}")
    result = trove("whoami")
    assert result.exit_code == 0
    assert "profile         : default" in result.stdout
    assert "note: /v1/me unreachable" in result.stderr


@pytest.mark.parametrize("profile", ["nope"])
def test_an_unknown_profile_exits_3_with_a_hint(trove: Trove, profile: str) -> None:
    result = trove("--profile", profile, "whoami")
    assert result.exit_code == 3
    assert (
        "no profile named 'nope' (saved profiles: admin, default); run 'trove login'"
        in result.stderr
    )


def test_no_browser_prompts_for_the_key(trove_home: str, trove_server: Any) -> None:
    # An empty first line is "nothing piped"; the prompt then reads the key.
    result = login(trove_server, "--no-browser", input=f"\n{trove_server.api_key}\n")
    assert result.exit_code == 0, result.output
    assert "API key" in result.stderr
    assert Config().get("default").api_key == trove_server.api_key


def test_a_server_without_browser_login_says_to_use_a_key(
    trove_home: str, trove_server: Any
) -> None:
    from tests.cli.proxy import HidingProxy
    from tests.cli.receiver import serve

    proxy = HidingProxy(trove_server.base_url, hide=lambda path: path.startswith("/v1/auth/"))
    with serve(proxy) as url:
        result = invoke("login", "--base-url", url, input="")
    assert result.exit_code == 1
    assert "does not support browser login; pass --api-key" in result.stderr
