"""``trove run``: the remote exit code becomes ours; stdin, --json and the bad inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import Trove
from tests.cli.proxy import HidingProxy
from tests.cli.receiver import free_port, serve
from tests.cli.runner import invoke, json_out, run_trove
from trove_cli.config import Config, Profile


def test_stdout_goes_to_stdout_and_stderr_to_stderr(trove: Trove) -> None:
    result = trove("run", "echo out; echo err >&2")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


def test_the_remote_exit_code_becomes_ours(trove: Trove) -> None:
    assert trove("run", "exit 7").exit_code == 7


def test_json_is_one_line_with_the_exit_code_and_both_streams(trove: Trove) -> None:
    result = trove("run", "--json", "echo hi; echo oops >&2; exit 3")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert set(data) == {"exit_code", "stdout", "stderr", "duration_ms"}
    assert (data["exit_code"], data["stdout"], data["stderr"]) == (3, "hi\n", "oops\n")


def test_piped_stdin_is_forwarded(trove: Trove) -> None:
    assert json_out(trove("run", "--json", "wc -c", input="hello"))["stdout"].strip() == "5"


def test_no_stdin_keeps_piped_input_local(trove: Trove) -> None:
    assert (
        json_out(trove("run", "--json", "--no-stdin", "wc -c", input="hello"))["stdout"].strip()
        == "0"
    )


def test_flags_after_the_command_belong_to_the_command(trove: Trove) -> None:
    trove("write", "workspace/a.txt", "abc")
    result = trove("run", "wc", "-c", "workspace/a.txt")
    assert result.stdout == "3 workspace/a.txt\n"


def test_a_missing_trailing_newline_is_added(trove: Trove) -> None:
    assert trove("run", "printf x; printf y >&2").stdout == "x\n"


def test_stdin_over_one_mib_is_refused_before_sending(trove: Trove, admin: Trove) -> None:
    result = trove("run", "wc -c", input="x" * (1_048_576 + 1))
    assert result.exit_code == 1
    assert "stdin is over 1048576 bytes" in result.stderr
    events = trove("events", "list", "-t", "exec.completed", "--json").stdout
    assert "wc -c" not in events


def test_stdin_that_is_not_utf8_is_refused(trove: Trove) -> None:
    result = trove("run", "wc -c", input=b"\xff\xfe")
    assert result.exit_code == 1
    assert "stdin is not UTF-8 text" in result.stderr


def test_without_a_namespace_it_says_how_to_set_one(trove_home: str, trove_server: Any) -> None:
    Config().save(
        Profile(
            name="default",
            api_key=trove_server.api_key,
            workspace_id=trove_server.workspace_id,
            base_url=trove_server.base_url,
        )
    )
    result = invoke("run", "true")
    assert result.exit_code == 1
    assert "no namespace set: pass -n/--namespace" in result.stderr


def test_a_revoked_key_exits_2(trove_home: str, trove_server: Any) -> None:
    key = trove_server.create_key("revoked-soon")
    with trove_server.admin() as admin:
        admin.revoke_key(key.key_id)
    Config().save(
        Profile(
            name="default",
            api_key=key.api_key,
            workspace_id=trove_server.workspace_id,
            base_url=trove_server.base_url,
            namespace="alice",
        )
    )
    result = invoke("run", "true")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: HTTP 401 — ")


def test_an_unreachable_server_exits_4_naming_the_url(trove_home: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    Config().save(
        Profile(
            name="default", api_key="trove-sk-x", workspace_id="ws-1", base_url=url, namespace="a"
        )
    )
    result = invoke("run", "true")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"error: network — could not reach {url}/v1/exec")


def test_the_installed_executable_exits_with_the_remote_code_and_forwards_stdin(
    profiles: Config, monkeypatch: Any, trove_home: str
) -> None:
    result = run_trove("run", "--json", "cat; exit 5", input="piped\n")
    assert result.returncode == 5
    assert json.loads(result.stdout)["stdout"] == "piped\n"


@pytest.fixture
def legacy_server(trove_server: Any, profiles: Config) -> Iterator[HidingProxy]:
    """The profile points at a proxy that hides ``/v1/exec`` (a server older than 0.8)."""
    proxy = HidingProxy(trove_server.base_url, hide=lambda path: path == "/v1/exec")
    with serve(proxy) as url:
        profiles.update("default", base_url=url)
        yield proxy


def test_without_v1_exec_it_falls_back_to_the_legacy_route(
    trove: Trove, legacy_server: HidingProxy
) -> None:
    result = trove("run", "echo hi")
    assert (result.exit_code, result.stdout) == (0, "hi\n")
    assert legacy_server.hidden == ["/v1/exec"]


def test_the_legacy_exit_code_is_read_from_its_first_line(
    trove: Trove, legacy_server: HidingProxy
) -> None:
    result = trove("run", "echo out; echo err >&2; exit 4")
    assert result.exit_code == 4
    assert result.stdout.startswith("[exit 4]\n")


def test_legacy_json_puts_the_text_in_the_stream_the_exit_code_implies(
    trove: Trove, legacy_server: HidingProxy
) -> None:
    ok = json.loads(trove("run", "--json", "echo hi").stdout)
    assert (ok["exit_code"], ok["stdout"], ok["stderr"], ok["duration_ms"]) == (0, "hi\n", "", 0)
    failed = json.loads(trove("run", "--json", "exit 2").stdout)
    assert (failed["exit_code"], failed["stdout"]) == (2, "")
    assert failed["stderr"].startswith("[exit 2]")
