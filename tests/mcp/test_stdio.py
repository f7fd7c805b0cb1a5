"""The server as MCP clients really run it: the entry ``trove mcp install`` wrote, started as
a subprocess with only that entry's environment, driven over stdio by the ``mcp`` SDK."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.mcp.session import text_of
from trove_mcp.install import Host, build_entry, install_client


def installed_entry(tmp_path: Path, trove_server: Any, namespace: str) -> dict[str, Any]:
    """Install into a Claude Desktop config under tmp_path and read the entry back."""
    host = Host(platform="darwin", home=tmp_path / "home", cwd=tmp_path)
    entry = build_entry(trove_server.api_key, namespace, base_url=trove_server.base_url)
    outcome = install_client("claude-desktop", entry, host=host)
    written: dict[str, Any] = json.loads(outcome.path.read_text())["mcpServers"]["trove"]
    return written


async def test_the_installed_entry_serves_every_tool_over_stdio(
    tmp_path: Path, trove_server: Any, namespace: str
) -> None:
    entry = installed_entry(tmp_path, trove_server, namespace)
    # Run from an unrelated directory with nothing but the entry's env, as a host would.
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=entry["env"], cwd=tmp_path
    )
    async with Client(params) as client:
        assert client.server_info is not None and client.server_info.name == "trove"
        assert "workspace/.trove/agent.md" in (client.instructions or "")
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        assert tools == [
            "trove_bootstrap",
            "trove_delete",
            "trove_exec",
            "trove_list",
            "trove_put_base64",
            "trove_read",
            "trove_write",
        ]
        write = await client.call_tool("trove_write", {"path": "a.txt", "content": "hello"})
        read = await client.call_tool("trove_read", {"path": "a.txt"})
        put = await client.call_tool(
            "trove_put_base64",
            {"path": "b.bin", "content_b64": base64.b64encode(b"\x00\x01").decode()},
        )
        listing = await client.call_tool("trove_list", {})
        run = await client.call_tool("trove_exec", {"command": "cat workspace/a.txt"})
        boot = await client.call_tool("trove_bootstrap", {})
        delete = await client.call_tool("trove_delete", {"path": "b.bin"})
        missing = await client.call_tool("trove_read", {"path": "b.bin"})
        orient = await client.get_prompt("trove_orient", {})
    assert text_of(write) == "wrote workspace/a.txt (5 bytes)"
    assert text_of(read) == "hello"
    assert text_of(put) == "wrote workspace/b.bin (2 bytes)"
    assert text_of(listing).splitlines() == [
        "workspace/a.txt  (5 bytes)",
        "workspace/b.bin  (2 bytes)",
    ]
    assert run.structured_content is not None
    assert run.structured_content["stdout"] == "hello"
    assert text_of(boot).startswith(f"<workspace>\n  namespace: {namespace}\n  files: 2")
    assert text_of(delete) == "deleted workspace/b.bin"
    assert missing.is_error and "HTTP 404" in text_of(missing)
    assert orient.messages[0].content.text.startswith("<workspace>")  # type: ignore[union-attr]


async def test_trove_mcp_serve_speaks_mcp_over_stdio(
    tmp_path: Path, trove_server: Any, namespace: str
) -> None:
    params = StdioServerParameters(
        command=str(Path(sys.executable).with_name("trove")),
        args=["mcp", "serve", "-n", namespace],
        env={
            "TROVE_API_KEY": trove_server.api_key,
            "TROVE_BASE_URL": trove_server.base_url,
            "TROVE_HOME": str(tmp_path),
        },
        cwd=tmp_path,
    )
    async with Client(params) as client:
        result = await client.call_tool("trove_exec", {"command": "echo served"})
    assert text_of(result) == "[exit 0]\nserved\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def http_server(trove_server: Any, namespace: str) -> Iterator[str]:
    """``python -m trove_mcp --http`` on a free port; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(
        TROVE_API_KEY=trove_server.api_key,
        TROVE_NAMESPACE=namespace,
        TROVE_BASE_URL=trove_server.base_url,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "trove_mcp", "--http", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "trove-mcp --http did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None and process.stdout.read() == b""
        process.stdout.close()
        process.stderr.close()  # type: ignore[union-attr]


async def test_http_mode_serves_the_same_tools_at_a_url(http_server: str) -> None:
    async with Client(http_server) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("trove_exec", {"command": "echo over http"})
    assert len(tools) == 7
    assert text_of(result) == "[exit 0]\nover http\n"
