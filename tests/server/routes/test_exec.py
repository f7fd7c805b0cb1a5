"""Exec routes (CONTRACT §2.3, D6–D8, X7) through our SDK and raw HTTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.server.support import headers
from trove_sdk import TroveError, TroveExecError, TroveTimeoutError


def _events(client, namespace, types):
    return client.list_events(namespace=namespace, types=types, limit=200).events


def test_exec_returns_exit_code_stdout_and_stderr_separately(client):
    result = client.exec_detailed("echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.duration_ms >= 0
    assert result.timed_out is False


def test_a_failing_command_is_still_http_200(http, trove_server, namespace):
    response = http.post(
        "/v1/exec", json={"command": "false"}, headers=headers(trove_server.api_key, namespace)
    )
    assert response.status_code == 200
    assert response.json()["exit_code"] == 1


def test_the_shell_starts_at_the_namespace_root_with_workspace_inside(client):
    client.write("here.txt", "x")
    assert client.exec_detailed("ls workspace").stdout == "here.txt\n"
    assert client.exec_detailed('test "$HOME" = "$PWD" && echo same').stdout == "same\n"


def test_each_call_gets_a_fresh_shell(client):
    client.exec_detailed("export GONE=1; cd workspace")
    assert client.exec_detailed('echo "[$GONE]"; basename "$PWD"').stdout.startswith("[]\n")


def test_exec_chain_keeps_cwd_and_variables_across_steps(client):
    client.write("sub/f.txt", "x")
    result = client.exec_chain(["cd workspace/sub", "X=7", "ls", "echo $X"])
    assert result.stdout == "f.txt\n7\n"


def test_exec_chain_stops_at_the_first_failure(client):
    result = client.exec_chain(["echo one", "false", "echo never"])
    assert result.exit_code == 1
    assert result.stdout == "one\n"


def test_stdin_reaches_the_command(client):
    assert client.exec_detailed("wc -c", stdin="12345").stdout.strip() == "5"


def test_without_stdin_the_command_reads_an_empty_input(client):
    assert client.exec_detailed("cat; echo done").stdout == "done\n"


def test_stdin_over_one_mib_is_422(http, trove_server, namespace):
    response = http.post(
        "/v1/exec",
        json={"command": "wc -c", "stdin": "x" * (1024 * 1024 + 1)},
        headers=headers(trove_server.api_key, namespace),
    )
    assert response.status_code == 422
    assert "stdin is 1048577 bytes" in response.json()["detail"]


def test_stdin_of_exactly_one_mib_is_accepted(client):
    assert client.exec_detailed("wc -c", stdin="y" * 1024 * 1024).stdout.strip() == "1048576"


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "command"),
        ({"command": ""}, "must not be empty"),
        ({"command": "   "}, "must not be blank"),
        ({"command": 12}, "command must be a string"),
        ({"command": "ls", "stdin": 5}, "stdin must be a string"),
        ({"command": "ls", "timeout_s": 0}, "timeout_s must be greater than 0"),
        ({"command": "ls", "timeout_s": "soon"}, "timeout_s must be a number"),
    ],
)
def test_a_bad_exec_body_is_422(http, trove_server, namespace, body, complaint):
    response = http.post("/v1/exec", json=body, headers=headers(trove_server.api_key, namespace))
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


def test_timeout_is_408_with_the_contract_detail(client):
    with pytest.raises(TroveTimeoutError) as info:
        client.exec_detailed("sleep 30", timeout_s=0.5)
    assert info.value.status_code == 408
    assert info.value.message == "Command timed out after 0.5s."


def test_a_timed_out_command_still_emits_exec_completed(client, namespace):
    with pytest.raises(TroveTimeoutError):
        client.exec_detailed("echo started; sleep 30", timeout_s=0.5)
    (event,) = _events(client, namespace, "exec.completed")
    assert event.data.timed_out is True
    assert event.data.exit_code == 124
    assert event.data.stdout == "started\n"


def test_a_timeout_above_the_servers_maximum_is_422(capped):
    with pytest.raises(TroveError) as info:
        capped.exec_detailed("true", timeout_s=11)
    assert info.value.status_code == 422
    assert "at most 10" in info.value.message


def test_output_beyond_the_cap_is_cut_and_flagged(capped):
    result = capped.exec_detailed("head -c 5000 /dev/zero | tr '\\0' a; echo tail >&2")
    assert result.stdout == "a" * 1000
    assert result.stdout_truncated is True
    assert result.stderr == "tail\n"
    assert result.stderr_truncated is False


def test_exec_completed_carries_the_d7_fields(client, namespace):
    client.exec_detailed("cat >/dev/null; echo hi", stdin="abc")
    (event,) = _events(client, namespace, "exec.completed")
    data = event.data
    assert (data.command, data.exit_code, data.stdin_bytes, data.stdout, data.timed_out) == (
        "cat >/dev/null; echo hi",
        0,
        3,
        "hi\n",
        False,
    )
    assert data.files_scan is None


def test_files_a_command_changes_are_announced(client, namespace):
    client.write("old.txt", "x")
    client.write("keep.txt", "x")
    client.exec_detailed(
        "echo new > workspace/new.txt; rm workspace/old.txt; echo more >> workspace/keep.txt"
    )
    # Newest first: the dict keeps each path's latest event.
    written = {e.data.path: e.data for e in reversed(_events(client, namespace, "file.written"))}
    assert written["workspace/new.txt"].source == "exec"
    assert written["workspace/new.txt"].size_bytes == 4
    assert written["workspace/keep.txt"].source == "exec"
    (deleted,) = _events(client, namespace, "file.deleted")
    assert (deleted.data.path, deleted.data.source) == ("workspace/old.txt", "exec")


def test_a_namespace_above_the_scan_bound_skips_file_events(tmp_path, namespace):
    from trove_server.testing import run_server

    with run_server(tmp_path, exec_scan_limit=5) as server, server.client(namespace) as c:
        c.exec_detailed("mkdir -p workspace/many && touch workspace/many/f{1..9}")
        c.exec_detailed("touch workspace/another")
        events = c.list_events(namespace=namespace, limit=200).events
    completed = [e for e in events if e.type == "exec.completed"]
    assert completed[0].data.files_scan == "skipped"
    assert not [e for e in events if e.type == "file.written" and "another" in e.data.path]


def test_init_sh_is_sourced_before_the_command(client):
    client.set_init("cd workspace\nexport GREETING=hello\n")
    client.write("in-workspace.txt", "x")
    assert client.exec_detailed("echo $GREETING; ls").stdout == "hello\nin-workspace.txt\n"


def test_init_sh_errors_go_to_stderr_and_the_command_still_runs(client):
    client.set_init("no_such_command_xyz\n")
    result = client.exec_detailed("echo still-ran")
    assert result.stdout == "still-ran\n"
    assert "no_such_command_xyz" in result.stderr


def test_exit_in_init_sh_ends_the_shell_before_the_command(client):
    client.set_init("exit 7\n")
    result = client.exec_detailed("echo never")
    assert (result.exit_code, result.stdout) == (7, "")


def test_init_sh_is_not_sourced_again_by_scripts_the_command_runs(client):
    client.set_init("echo init-ran\n")
    result = client.exec_detailed("bash -c 'echo child'")
    assert result.stdout == "init-ran\nchild\n"


# --- legacy text endpoint (D6) -----------------------------------------------------------------


def test_legacy_exec_returns_stdout_as_text(http, trove_server, namespace):
    response = http.post(
        "/exec", json={"command": "echo hi"}, headers=headers(trove_server.api_key, namespace)
    )
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "hi\n"


def test_legacy_exec_says_no_output_when_there_is_none(http, trove_server, namespace):
    response = http.post(
        "/exec", json={"command": "true"}, headers=headers(trove_server.api_key, namespace)
    )
    assert response.text == "(no output)"


def test_legacy_exec_prefixes_the_exit_code_then_stderr_then_stdout(http, trove_server, namespace):
    response = http.post(
        "/exec",
        json={"command": "echo out; echo err >&2; exit 4"},
        headers=headers(trove_server.api_key, namespace),
    )
    assert response.text == "[exit 4]\nerr\nout\n"


def test_exec_with_check_raises_on_failure(client):
    with pytest.raises(TroveExecError) as info:
        client.exec("echo boom >&2; exit 2", check=True)
    assert info.value.exit_code == 2


# --- concurrency ---------------------------------------------------------------------------------


async def test_commands_run_concurrently(async_client):
    """Four commands that each wait for all four to have started can only finish together."""
    rendezvous = (
        "touch workspace/started-$RANDOM$RANDOM; "
        "for i in $(seq 200); do [ $(ls workspace | wc -l) -ge 4 ] && exit 0; sleep 0.05; done; "
        "exit 1"
    )
    results = await asyncio.gather(*(async_client.exec_detailed(rendezvous) for _ in range(4)))
    assert [r.exit_code for r in results] == [0, 0, 0, 0]


async def test_a_running_command_does_not_block_other_requests(async_client):
    running = asyncio.ensure_future(
        async_client.exec_detailed("while [ ! -f workspace/go ]; do sleep 0.05; done; echo went")
    )
    await async_client.me()
    await async_client.write("go", "now")  # only possible while the command waits
    assert (await running).stdout == "went\n"


def test_a_nul_byte_in_the_command_is_422(http, trove_server, namespace):
    response = http.post(
        "/v1/exec",
        json={"command": "echo a\u0000b"},
        headers=headers(trove_server.api_key, namespace),
    )
    assert response.status_code == 422
    assert response.json() == {"detail": "command contains a NUL byte"}


def test_a_nul_byte_in_stdin_reaches_the_command(client):
    assert client.exec_detailed("od -c | head -1", stdin="a\u0000b").stdout.split()[1:4] == [
        "a",
        "\\0",
        "b",
    ]


def _big_heredoc(lines: int) -> tuple[str, str]:
    body = "".join(
        f"line {i:06d} of a heredoc bigger than one exec argument\n" for i in range(lines)
    )
    return (
        f"cat > workspace/big.txt <<'TROVE_EOF'\n{body}TROVE_EOF\nwc -l < workspace/big.txt",
        body,
    )


def test_a_command_longer_than_the_kernels_argument_limit_runs(client):
    """Linux refuses one exec argument over 128 KiB (E2BIG); agents send heredocs that big."""
    command, body = _big_heredoc(4000)
    assert len(command.encode()) > 200 * 1024
    result = client.exec_detailed(command)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "4000\n", "")
    assert client.read_text("big.txt") == body


def test_a_long_command_gets_its_stdin_init_sh_and_exit_code(client):
    client.set_init("export FROM_INIT=yes\n")
    padding = "# " + "p" * 200_000 + "\n"
    result = client.exec_detailed(padding + 'echo "$FROM_INIT $(cat)"; exit 7', stdin="piped")
    assert (result.exit_code, result.stdout) == (7, "yes piped\n")


def test_a_long_command_cannot_rewrite_its_own_script(client):
    """The script reaches bash on an inherited descriptor, sealed read-only."""
    padding = "# " + "p" * 200_000 + "\n"
    result = client.exec_detailed(
        padding
        + "for fd in /proc/$$/fd/*; do case $(readlink $fd) in *trove-command*)"
        + " { echo x >> $fd && echo changed || echo refused; } 2>/dev/null;; esac; done"
    )
    assert "refused" in result.stdout
    assert "changed" not in result.stdout
