"""Every tool, through an in-memory MCP session, against the real local server."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import MCPError

from tests.mcp.session import Connect, text_of
from trove_mcp.server import INSTRUCTIONS
from trove_mcp.settings import Settings
from trove_sdk import TroveClient, TroveNotFoundError

MIB = 1_048_576
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00\xff" * 8


# --- the tool list -------------------------------------------------------------------------


async def test_the_server_offers_seven_tools_with_their_behaviour_hints(connect: Connect) -> None:
    async with connect() as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    hints = {
        name: (
            tool.annotations.read_only_hint,
            tool.annotations.destructive_hint,
            tool.annotations.idempotent_hint,
        )
        for name, tool in tools.items()
        if tool.annotations is not None
    }
    assert hints == {
        "trove_exec": (False, True, False),
        "trove_read": (True, None, True),
        "trove_write": (False, True, True),
        "trove_put_base64": (False, True, True),
        "trove_list": (True, None, True),
        "trove_delete": (False, True, True),
        "trove_bootstrap": (True, None, True),
    }


async def test_every_tool_publishes_an_output_schema_and_a_title(connect: Connect) -> None:
    async with connect() as session:
        tools = (await session.list_tools()).tools
    assert all(tool.output_schema and tool.output_schema["type"] == "object" for tool in tools)
    assert all(tool.title for tool in tools)
    exec_schema = next(t.output_schema for t in tools if t.name == "trove_exec")
    assert exec_schema is not None
    assert {"exit_code", "stdout", "stderr", "duration_ms", "timed_out"} <= set(
        exec_schema["properties"]
    )


async def test_descriptions_state_the_limits_an_agent_must_respect(connect: Connect) -> None:
    async with connect() as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    exec_text = tools["trove_exec"].description or ""
    assert "30 s wall clock" in exec_text and "1 MiB" in exec_text
    assert "fresh bash shell" in exec_text
    assert "1 MiB" in (tools["trove_read"].description or "")
    stdin = tools["trove_exec"].input_schema["properties"]["stdin"]
    assert "at most 1 MiB" in stdin["description"]
    assert tools["trove_exec"].input_schema["required"] == ["command"]


async def test_the_instructions_explain_how_the_workspace_behaves(
    connect: Connect, namespace: str
) -> None:
    async with connect() as session:
        instructions = session.instructions
    assert instructions == INSTRUCTIONS.format(namespace=namespace)
    for phrase in ("fresh bash shell", "workspace/.trove/init.sh", "workspace/.trove/agent.md"):
        assert phrase in instructions
    assert "trove_bootstrap" in instructions


async def test_the_server_is_named_trove(connect: Connect) -> None:
    async with connect() as session:
        assert session.server_info is not None and session.server_info.name == "trove"


# --- trove_exec ----------------------------------------------------------------------------


async def test_exec_returns_the_exit_code_and_both_streams_as_text_and_data(
    connect: Connect,
) -> None:
    async with connect() as session:
        result = await session.call_tool(
            "trove_exec", {"command": "echo out; echo err >&2; exit 3"}
        )
    assert not result.is_error
    assert text_of(result) == "[exit 3]\nout\n--- stderr ---\nerr\n"
    data = result.structured_content
    assert data is not None
    assert (data["exit_code"], data["stdout"], data["stderr"]) == (3, "out\n", "err\n")
    assert data["timed_out"] is False
    assert isinstance(data["duration_ms"], int) and data["duration_ms"] >= 0


async def test_exec_with_no_output_is_just_the_exit_line(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_exec", {"command": "true"})
    assert text_of(result) == "[exit 0]"


async def test_exec_pipes_stdin_to_the_command(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_exec", {"command": "wc -l", "stdin": "a\nb\nc\n"})
    assert result.structured_content is not None
    assert result.structured_content["stdout"].strip() == "3"


async def test_each_exec_gets_a_fresh_shell_at_the_namespace_root(connect: Connect) -> None:
    async with connect() as session:
        first = await session.call_tool("trove_exec", {"command": "pwd; cd workspace; export X=1"})
        second = await session.call_tool("trove_exec", {"command": "pwd; echo ${X:-unset}"})
    assert first.structured_content is not None and second.structured_content is not None
    root = first.structured_content["stdout"].splitlines()[0]
    assert second.structured_content["stdout"].splitlines() == [root, "unset"]


async def test_exec_sources_init_sh_written_with_trove_write(connect: Connect) -> None:
    async with connect() as session:
        await session.call_tool(
            "trove_write",
            {"path": "workspace/.trove/init.sh", "content": "export GREETING=hello\n"},
        )
        result = await session.call_tool("trove_exec", {"command": "echo $GREETING"})
    assert text_of(result) == "[exit 0]\nhello\n"


async def test_files_written_by_exec_persist_for_the_next_call(connect: Connect) -> None:
    async with connect() as session:
        await session.call_tool("trove_exec", {"command": "echo kept > workspace/state.txt"})
        result = await session.call_tool("trove_read", {"path": "workspace/state.txt"})
    assert text_of(result) == "kept\n"


async def test_stdin_over_one_mib_is_a_tool_error_before_any_request(
    connect: Connect, client: TroveClient
) -> None:
    async with connect() as session:
        result = await session.call_tool(
            "trove_exec", {"command": "cat > workspace/big.txt", "stdin": "x" * (MIB + 1)}
        )
    assert result.is_error
    assert f"stdin is {MIB + 1} bytes; the server accepts at most {MIB}" in text_of(result)
    with pytest.raises(TroveNotFoundError):
        client.read_file("workspace/big.txt")


async def test_an_empty_command_is_refused_by_the_input_schema(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_exec", {"command": ""})
    assert result.is_error
    assert "command" in text_of(result) and "at least 1 character" in text_of(result)


# --- trove_write / trove_read --------------------------------------------------------------


async def test_write_then_read_round_trips_unicode_text(connect: Connect) -> None:
    content = "# Plan\n\ncafé ✓ — 日本語\n"
    async with connect() as session:
        written = await session.call_tool(
            "trove_write", {"path": "notes/plan.md", "content": content}
        )
        read = await session.call_tool("trove_read", {"path": "workspace/notes/plan.md"})
    size = len(content.encode())
    assert text_of(written) == f"wrote workspace/notes/plan.md ({size} bytes)"
    assert written.structured_content == {"path": "workspace/notes/plan.md", "size_bytes": size}
    assert text_of(read) == content
    assert read.structured_content is not None
    assert read.structured_content["content"] == content
    assert read.structured_content["truncated"] is False


async def test_write_replaces_an_existing_file(connect: Connect) -> None:
    async with connect() as session:
        await session.call_tool("trove_write", {"path": "a.txt", "content": "first version"})
        await session.call_tool("trove_write", {"path": "a.txt", "content": "second"})
        result = await session.call_tool("trove_read", {"path": "a.txt"})
    assert text_of(result) == "second"


async def test_reading_an_empty_file_says_it_is_empty(connect: Connect) -> None:
    async with connect() as session:
        await session.call_tool("trove_write", {"path": "empty.txt", "content": ""})
        result = await session.call_tool("trove_read", {"path": "empty.txt"})
    assert not result.is_error
    assert text_of(result) == "[workspace/empty.txt is empty]"
    assert result.structured_content is not None
    assert (result.structured_content["content"], result.structured_content["size_bytes"]) == (
        "",
        0,
    )


async def test_reading_a_binary_file_suggests_exec_with_base64(
    connect: Connect, client: TroveClient
) -> None:
    client.upload("workspace/pixel.png", PNG)
    async with connect() as session:
        result = await session.call_tool("trove_read", {"path": "workspace/pixel.png"})
    assert result.is_error
    message = text_of(result)
    assert f"workspace/pixel.png is a binary file ({len(PNG)} bytes)" in message
    assert "trove_exec" in message and "base64 workspace/pixel.png" in message


async def test_reading_past_one_mib_is_cut_and_says_how_to_read_on(
    connect: Connect, client: TroveClient
) -> None:
    client.upload("workspace/big.log", b"y" * (MIB + 10))
    async with connect() as session:
        result = await session.call_tool("trove_read", {"path": "big.log"})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["truncated"] is True
    assert result.structured_content["size_bytes"] == MIB + 10
    assert len(result.content[0].text) == MIB  # type: ignore[union-attr]
    assert "truncated: showing the first 1 MiB of 1048586 bytes" in text_of(result)


async def test_reading_a_missing_file_is_a_tool_error_with_the_servers_message(
    connect: Connect,
) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_read", {"path": "missing.txt"})
    assert result.is_error
    assert "HTTP 404: Path not found: workspace/missing.txt" in text_of(result)
    assert "trove_list" in text_of(result)


# --- trove_put_base64 ----------------------------------------------------------------------


async def test_put_base64_stores_the_exact_bytes(connect: Connect, client: TroveClient) -> None:
    async with connect() as session:
        result = await session.call_tool(
            "trove_put_base64",
            {"path": "img/pixel.png", "content_b64": base64.b64encode(PNG).decode()},
        )
    assert text_of(result) == f"wrote workspace/img/pixel.png ({len(PNG)} bytes)"
    assert client.read_bytes("workspace/img/pixel.png") == PNG


async def test_put_base64_accepts_wrapped_lines_and_the_url_safe_alphabet(
    connect: Connect, client: TroveClient
) -> None:
    data = bytes(range(256))
    wrapped = base64.encodebytes(data).decode()  # 76-column lines
    url_safe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    async with connect() as session:
        await session.call_tool("trove_put_base64", {"path": "a.bin", "content_b64": wrapped})
        await session.call_tool("trove_put_base64", {"path": "b.bin", "content_b64": url_safe})
    assert client.read_bytes("workspace/a.bin") == data
    assert client.read_bytes("workspace/b.bin") == data


@pytest.mark.parametrize(
    ("content_b64", "reason"),
    [
        ("not base64!", "invalid base64"),
        ("QUJD*RA==", "invalid base64"),
        ("QUJDR", "invalid base64"),
        ("data:image/png;base64,iVBORw0KGgo=", "send only the part after 'base64,'"),
    ],
)
async def test_invalid_base64_is_a_tool_error_and_writes_nothing(
    connect: Connect, client: TroveClient, content_b64: str, reason: str
) -> None:
    async with connect() as session:
        result = await session.call_tool(
            "trove_put_base64", {"path": "bad.bin", "content_b64": content_b64}
        )
    assert result.is_error
    assert reason in text_of(result)
    with pytest.raises(TroveNotFoundError):
        client.read_file("workspace/bad.bin")


# --- trove_list / trove_delete -------------------------------------------------------------


async def test_list_shows_directories_first_then_files_with_sizes(
    connect: Connect, client: TroveClient
) -> None:
    client.write("workspace/b.txt", "bb")
    client.write("workspace/a.txt", "a")
    client.write("workspace/docs/x.md", "x")
    async with connect() as session:
        result = await session.call_tool("trove_list", {})
    assert text_of(result).splitlines() == [
        "workspace/docs/",
        "workspace/a.txt  (1 bytes)",
        "workspace/b.txt  (2 bytes)",
    ]
    assert result.structured_content is not None
    assert result.structured_content["path"] == "workspace/"
    assert [e["name"] for e in result.structured_content["entries"]] == ["docs", "a.txt", "b.txt"]


async def test_list_recursive_walks_the_tree(connect: Connect, client: TroveClient) -> None:
    client.write("workspace/docs/deep/x.md", "x")
    async with connect() as session:
        flat = await session.call_tool("trove_list", {"path": "docs"})
        deep = await session.call_tool("trove_list", {"path": "docs", "recursive": True})
    assert text_of(flat) == "workspace/docs/deep/"
    assert text_of(deep).splitlines() == [
        "workspace/docs/deep/",
        "workspace/docs/deep/x.md  (1 bytes)",
    ]


async def test_listing_an_empty_workspace_says_so(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_list", {"path": "workspace/"})
    assert not result.is_error
    assert text_of(result) == "workspace/ is empty"


async def test_delete_removes_a_directory_tree(connect: Connect, client: TroveClient) -> None:
    client.write("workspace/tmp/a/b.txt", "x")
    async with connect() as session:
        result = await session.call_tool("trove_delete", {"path": "workspace/tmp"})
    assert text_of(result) == "deleted workspace/tmp"
    assert result.structured_content == {"deleted": "workspace/tmp"}
    assert [e.name for e in client.list_dir()] == []


async def test_deleting_a_missing_path_is_a_tool_error(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_delete", {"path": "nothing-here"})
    assert result.is_error
    assert "HTTP 404" in text_of(result)


async def test_deleting_the_workspace_itself_is_refused(connect: Connect) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_delete", {"path": "workspace/"})
    assert result.is_error
    assert "is the workspace directory itself" in text_of(result)


# --- paths outside the namespace -----------------------------------------------------------

OUTSIDE = ["../other/workspace/x.txt", "workspace/../../x.txt", "/etc/passwd", "~/.ssh/id_rsa"]
PATH_TOOLS: list[tuple[str, dict[str, Any]]] = [
    ("trove_read", {}),
    ("trove_write", {"content": "pwned"}),
    ("trove_put_base64", {"content_b64": "cHduZWQ="}),
    ("trove_delete", {}),
    ("trove_list", {}),
]


@pytest.mark.parametrize("path", OUTSIDE)
@pytest.mark.parametrize(("tool", "extra"), PATH_TOOLS, ids=[t for t, _ in PATH_TOOLS])
async def test_a_path_outside_the_workspace_is_a_tool_error(
    connect: Connect, tool: str, extra: dict[str, Any], path: str
) -> None:
    async with connect() as session:
        result = await session.call_tool(tool, {"path": path, **extra})
    assert result.is_error
    assert "outside" in text_of(result)
    assert "workspace/notes.md" in text_of(result)


async def test_writes_never_reach_another_namespace(
    connect: Connect, trove_server: Any, namespace: str
) -> None:
    async with connect() as session:
        await session.call_tool("trove_write", {"path": "mine.txt", "content": "x"})
        await session.call_tool("trove_exec", {"command": "ls -a / > workspace/root.txt"})
    with trove_server.client(namespace + "-other") as other:
        assert list(other.list_dir()) == []


# --- trove_bootstrap and trove_orient ------------------------------------------------------


async def test_bootstrap_on_an_empty_namespace(connect: Connect, namespace: str) -> None:
    async with connect() as session:
        result = await session.call_tool("trove_bootstrap", {})
    assert (
        text_of(result)
        == f"<workspace>\n  namespace: {namespace}\n  files: 0 (empty)\n</workspace>"
    )
    assert result.structured_content is not None
    assert result.structured_content["file_count"] == 0


async def test_bootstrap_shows_recent_files_init_and_the_hand_off_note(
    connect: Connect, namespace: str
) -> None:
    async with connect() as session:
        await session.call_tool("trove_write", {"path": "data.csv", "content": "a,b\n"})
        await session.call_tool(
            "trove_write", {"path": ".trove/init.sh", "content": "cd workspace\nexport A=1\n"}
        )
        await session.call_tool(
            "trove_write",
            {"path": "workspace/.trove/agent.md", "content": "Parsed data.csv.\nNext: chart."},
        )
        result = await session.call_tool("trove_bootstrap", {})
    lines = text_of(result).splitlines()
    assert lines[0:2] == ["<workspace>", f"  namespace: {namespace}"]
    assert lines[2].startswith("  files: 1; last edited ")
    assert lines[3:] == [
        "  recent: workspace/data.csv (4B)",
        "  init.sh: cd workspace; export A=1",
        "  last_session: |",
        "    Parsed data.csv.",
        "    Next: chart.",
        "</workspace>",
    ]
    data = result.structured_content
    assert data is not None
    assert data["agent_memory"] == "Parsed data.csv.\nNext: chart."
    assert [f["path"] for f in data["recent_files"]] == ["workspace/data.csv"]


async def test_the_orient_prompt_gives_the_same_block(connect: Connect) -> None:
    async with connect() as session:
        prompts = (await session.list_prompts()).prompts
        await session.call_tool("trove_write", {"path": "x.txt", "content": "x"})
        block = text_of(await session.call_tool("trove_bootstrap", {}))
        prompt = await session.get_prompt("trove_orient", {})
    assert [p.name for p in prompts] == ["trove_orient"]
    assert prompts[0].arguments == []
    assert prompt.messages[0].role == "user"
    assert prompt.messages[0].content.text == block  # type: ignore[union-attr]


async def test_the_orient_prompt_reports_why_it_could_not_read_the_workspace(
    connect: Connect, trove_server: Any, namespace: str
) -> None:
    bogus = Settings("trove-sk-" + "e" * 32, namespace, trove_server.base_url)
    async with connect(bogus) as session:
        with pytest.raises(MCPError) as caught:
            await session.get_prompt("trove_orient", {})
    assert caught.value.message.startswith("could not read the Trove workspace: HTTP 401")


# --- keys and connectivity -----------------------------------------------------------------


async def test_a_namespace_locked_key_is_enough_for_every_tool(
    connect: Connect, trove_server: Any, namespace: str
) -> None:
    key = trove_server.create_key("mcp-test", namespace=namespace)
    locked = Settings(key.api_key, namespace, trove_server.base_url)
    async with connect(locked) as session:
        results = [
            await session.call_tool("trove_write", {"path": "a.txt", "content": "x"}),
            await session.call_tool("trove_read", {"path": "a.txt"}),
            await session.call_tool("trove_put_base64", {"path": "b.bin", "content_b64": "AAE="}),
            await session.call_tool("trove_list", {}),
            await session.call_tool("trove_exec", {"command": "ls workspace"}),
            await session.call_tool("trove_bootstrap", {}),
            await session.call_tool("trove_delete", {"path": "a.txt"}),
        ]
    assert [r.is_error for r in results] == [False] * len(results)


async def test_a_key_locked_to_another_namespace_gets_the_servers_refusal(
    connect: Connect, trove_server: Any, namespace: str
) -> None:
    key = trove_server.create_key("elsewhere", namespace=namespace + "-b")
    async with connect(Settings(key.api_key, namespace, trove_server.base_url)) as session:
        result = await session.call_tool("trove_list", {})
    assert result.is_error
    assert "HTTP 403" in text_of(result)
    assert "trove mcp install" in text_of(result)


async def test_a_refused_key_is_a_tool_error_not_a_crash(
    connect: Connect, trove_server: Any, namespace: str
) -> None:
    bogus = Settings("trove-sk-" + "f" * 32, namespace, trove_server.base_url)
    async with connect(bogus) as session:
        result = await session.call_tool("trove_exec", {"command": "true"})
    assert result.is_error
    assert "HTTP 401" in text_of(result)
    assert "trove-sk-ffff" not in text_of(result)


async def test_an_unreachable_server_is_a_tool_error(connect: Connect, namespace: str) -> None:
    down = Settings("trove-sk-x", namespace, "http://127.0.0.1:9")
    async with connect(down) as session:
        result = await session.call_tool("trove_exec", {"command": "true"})
    assert result.is_error
    assert "could not reach http://127.0.0.1:9" in text_of(result)
    assert "is the Trove server running" in text_of(result)


# --- the wall clock ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_second_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server whose commands get one second, so a timeout costs one second."""
    from trove_server.testing import run_server

    with run_server(tmp_path_factory.mktemp("one-second"), exec_timeout=1.0) as handle:
        yield handle


async def test_a_command_past_the_wall_clock_is_a_tool_error_saying_what_to_do(
    connect: Connect, one_second_server: Any, namespace: str
) -> None:
    quick = Settings(one_second_server.api_key, namespace, one_second_server.base_url)
    async with connect(quick) as session:
        result = await session.call_tool("trove_exec", {"command": "sleep 5"})
        after = await session.call_tool("trove_exec", {"command": "echo still here"})
    assert result.is_error
    assert "HTTP 408: Command timed out after 1s." in text_of(result)
    assert "split the work into shorter steps" in text_of(result)
    assert text_of(after) == "[exit 0]\nstill here\n"
