"""Both client twins against the real local server over HTTP: every method, end to end.

``test_client.py`` pins the bytes on the wire; this module proves the same calls work against
``trove_server`` — exec in the sandbox, files on disk, snapshots, events, keys and webhooks.
Each scenario is written once and run with the sync and the async client (``Twin``).
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.test_transfers import GeneratedFile, ResizedWhileRead
from tests.server.support import Receiver
from trove_sdk import (
    AsyncTroveAdminClient,
    AsyncTroveClient,
    FileWritten,
    TroveAdminClient,
    TroveAuthError,
    TroveClient,
    TroveError,
    TroveExecError,
    TroveNotFoundError,
    TroveTimeoutError,
    WebhookTest,
    verify_webhook,
)

MiB = 1 << 20
UPLOAD_LIMIT = 100 * MiB  # CONTRACT §3.5


class Twin:
    """One client, sync or async, called the same way: ``await twin("write", path, text)``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Drain an iterator method (``iter_events``), sync or async."""
        items = getattr(self.client, method)(*args, **kwargs)
        if hasattr(items, "__aiter__"):
            return [item async for item in items]
        return list(items)

    async def close(self) -> None:
        await self("aclose" if hasattr(self.client, "aclose") else "close")


@pytest.fixture(params=["sync", "async"])
async def trove(
    request: pytest.FixtureRequest, trove_server: Any, namespace: str
) -> AsyncIterator[Twin]:
    """A workspace-key client for a fresh namespace, once per twin."""
    cls = TroveClient if request.param == "sync" else AsyncTroveClient
    twin = Twin(
        cls(
            trove_server.api_key,
            namespace,
            base_url=trove_server.base_url,
            workspace_id=trove_server.workspace_id,
        )
    )
    yield twin
    await twin.close()


@pytest.fixture(params=["sync", "async"])
async def admin(request: pytest.FixtureRequest, trove_server: Any) -> AsyncIterator[Twin]:
    """An admin-key client, once per twin."""
    cls = TroveAdminClient if request.param == "sync" else AsyncTroveAdminClient
    twin = Twin(
        cls(trove_server.admin_key, trove_server.workspace_id, base_url=trove_server.base_url)
    )
    yield twin
    await twin.close()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A file of exactly the upload limit, with random content."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with path.open("wb") as handle:
        for _ in range(UPLOAD_LIMIT // MiB):
            handle.write(os.urandom(MiB))
    yield path
    path.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


# --- identity and exec ---------------------------------------------------------------------


async def test_me_describes_the_key(trove: Twin, trove_server: Any) -> None:
    me = await trove("me")
    assert (me.workspace_id, me.scope, me.namespace) == (
        trove_server.workspace_id,
        "workspace",
        None,
    )
    assert "events.stream" in me.capabilities


async def test_exec_returns_stdout_or_the_legacy_failure_text(trove: Twin) -> None:
    assert await trove("exec", "echo hi") == "hi\n"
    assert await trove("exec", "echo out; echo err >&2; exit 3") == "[exit 3]\nerr\nout\n"


async def test_exec_with_check_raises_the_exit_code_and_outputs(trove: Twin) -> None:
    with pytest.raises(TroveExecError) as info:
        await trove("exec", "echo oops >&2; exit 4", check=True)
    assert (info.value.exit_code, info.value.stderr) == (4, "oops\n")


async def test_exec_detailed_feeds_stdin_and_separates_the_streams(trove: Twin) -> None:
    result = await trove("exec_detailed", "cat; echo e >&2", stdin="héllo ✓")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "héllo ✓", "e\n")


async def test_exec_chain_keeps_cwd_and_variables_across_steps(trove: Twin) -> None:
    result = await trove(
        "exec_chain", ["mkdir -p workspace/d", "cd workspace/d", "X=7", "pwd", "echo $X"]
    )
    # (/trove/workspace/d in the sandbox; the namespace's own directory without one)
    cwd, x = result.stdout.splitlines()[-2:]
    assert (cwd.endswith("/workspace/d"), x) == (True, "7")


async def test_exec_chain_runs_steps_with_comments_background_jobs_and_heredocs(
    trove: Twin,
) -> None:
    steps = ["echo a  # a comment", "true &", "echo b;", "cat <<EOF\nc\nEOF", "echo d"]
    result = await trove("exec_chain", steps)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "a\nb\nc\nd\n", "")


async def test_a_command_past_its_timeout_raises_timeout_error(trove: Twin) -> None:
    with pytest.raises(TroveTimeoutError) as info:
        await trove("exec_detailed", "sleep 10", timeout_s=1)
    assert info.value.status_code == 408


# --- files ---------------------------------------------------------------------------------


async def test_text_written_reads_back_through_every_read(trove: Twin) -> None:
    written = await trove("write", "workspace/notes/ü b.md", "# plan ✓\n")
    assert written.path == "workspace/notes/ü b.md"
    assert await trove("read_text", "workspace/notes/ü b.md") == "# plan ✓\n"
    assert await trove("read", "workspace/notes/ü b.md") == "# plan ✓\n"
    info = await trove("read_file", "workspace/notes/ü b.md")
    assert (info.encoding, info.size_bytes, info.truncated) == ("utf-8", written.size_bytes, False)
    listing = await trove("list_dir", "workspace/", recursive=True)
    assert [f.path for f in listing] == ["workspace/notes", "workspace/notes/ü b.md"]


async def test_a_deleted_file_is_gone(trove: Twin) -> None:
    await trove("write", "old.txt", "x")
    assert await trove("delete", "workspace/old.txt") == "workspace/old.txt"
    with pytest.raises(TroveNotFoundError):
        await trove("read_text", "workspace/old.txt")
    with pytest.raises(TroveNotFoundError):
        await trove("delete", "old.txt")


async def test_binary_content_reads_as_bytes_and_is_refused_as_text(trove: Twin) -> None:
    data = bytes(range(256))
    await trove("upload", "bin/x?#.bin", data)
    assert await trove("read", "workspace/bin/x?#.bin") == data
    assert await trove("read_bytes", "bin/x?#.bin") == data
    full = await trove("read_bytes_full", "workspace/bin/x?#.bin")
    assert (full.content, full.size_bytes, full.truncated) == (data, 256, False)
    with pytest.raises(TroveError) as info:
        await trove("read_text", "workspace/bin/x?#.bin")
    assert info.value.status_code == 415


async def test_a_file_at_the_upload_limit_streams_up_and_down_intact(
    trove: Twin, big_file: Path, tmp_path: Path
) -> None:
    with big_file.open("rb") as handle:
        stored = await trove("upload", "big.bin", handle)
    assert stored.size_bytes == UPLOAD_LIMIT
    seen: list[tuple[int, int | None]] = []
    result = await trove(
        "download",
        "workspace/big.bin",
        tmp_path / "copy.bin",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert (result.bytes_written, result.size_bytes, result.truncated) == (UPLOAD_LIMIT,) * 2 + (
        False,
    )
    assert seen[-1] == (UPLOAD_LIMIT, UPLOAD_LIMIT)
    assert _sha256(tmp_path / "copy.bin") == _sha256(big_file)
    await trove("delete", "big.bin")  # 100 MiB less in the session server's data directory


async def test_a_file_that_grows_during_upload_is_sent_as_it_was_when_the_upload_began(
    trove: Twin, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"x" * (3 * MiB))
    with ResizedWhileRead(path, +MiB) as source:
        stored = await trove("upload", "app.log", source)
    assert stored.size_bytes == 3 * MiB
    assert await trove("read_bytes", "app.log") == b"x" * (3 * MiB)


async def test_an_upload_over_the_limit_is_refused_with_413(trove: Twin) -> None:
    with pytest.raises(TroveError) as info:
        await trove("upload", "too-big.bin", GeneratedFile(UPLOAD_LIMIT + 1))
    assert info.value.status_code == 413


async def test_dot_segments_in_a_file_path_never_reach_another_route(trove: Twin) -> None:
    """``../v1/me`` once resolved client-side to ``GET /v1/me`` and returned the key's identity."""
    with pytest.raises(TroveError) as info:
        await trove("read_bytes", "workspace/../v1/me")
    assert info.value.status_code == 422
    with pytest.raises(TroveError) as info:
        await trove("upload", "../escape.bin", b"x")
    assert info.value.status_code == 422


async def test_the_init_script_is_sourced_before_every_command(trove: Twin) -> None:
    assert await trove("get_init") is None
    await trove("set_init", "export GREETING=hello\ncd workspace\n")
    assert await trove("get_init") == "export GREETING=hello\ncd workspace\n"
    assert await trove("exec", 'echo $GREETING; basename "$PWD"') == "hello\nworkspace\n"
    assert await trove("clear_init") is True
    assert await trove("clear_init") is False


async def test_bootstrap_orients_an_agent(trove: Twin, namespace: str) -> None:
    await trove("write", "report.md", "draft")
    await trove("set_init", "cd workspace")
    await trove("write", "workspace/.trove/agent.md", "next: finish the report")
    block = (await trove("bootstrap")).as_system_prompt_block()
    assert block.splitlines()[:2] == ["<workspace>", f"  namespace: {namespace}"]
    assert "  recent: workspace/report.md (5B)" in block
    assert "  init.sh: cd workspace" in block
    assert "    next: finish the report" in block


async def test_bootstrap_survives_a_trove_dir_that_is_a_file(trove: Twin) -> None:
    """An agent that wrote ``workspace/.trove`` as a plain file still gets its orientation."""
    await trove("write", "workspace/.trove", "not a directory")
    await trove("write", "notes.md", "x")
    boot = await trove("bootstrap")
    assert (boot.init_script, boot.agent_memory, boot.file_count) == (None, None, 2)


async def test_bootstrap_ignores_a_binary_agent_note(trove: Twin) -> None:
    await trove("upload", "workspace/.trove/agent.md", b"\xff\xfe\x00binary")
    assert (await trove("bootstrap")).agent_memory is None


# --- snapshots -----------------------------------------------------------------------------


async def test_a_snapshot_restores_the_workspace_as_it_was(trove: Twin) -> None:
    await trove("write", "keep.txt", "v1")
    snapshot = await trove("create_snapshot", "before")
    await trove("write", "keep.txt", "v2")
    await trove("write", "new.txt", "x")
    assert [s.snapshot_id for s in await trove("list_snapshots")] == [snapshot.snapshot_id]
    assert await trove("restore_snapshot", snapshot.snapshot_id) == 1
    assert await trove("read_text", "workspace/keep.txt") == "v1"
    assert [f.name for f in await trove("list_dir")] == ["keep.txt"]


async def test_a_deleted_snapshot_is_gone(trove: Twin) -> None:
    snapshot = await trove("create_snapshot")
    await trove("delete_snapshot", snapshot.snapshot_id)
    assert await trove("list_snapshots") == []
    with pytest.raises(TroveNotFoundError):
        await trove("restore_snapshot", snapshot.snapshot_id)


# --- events and namespaces -----------------------------------------------------------------


async def test_the_feed_lists_and_pages_this_namespaces_events(trove: Twin, namespace: str) -> None:
    for name in ("a", "b", "c"):
        await trove("write", name, "x")
    page = await trove("list_events", namespace=namespace, types="file.written", limit=2)
    assert all(isinstance(e, FileWritten) for e in page.events)
    assert [e.data.path for e in page.events] == ["workspace/c", "workspace/b"]
    assert page.next_cursor is not None
    every = await trove.collect(
        "iter_events", namespace=namespace, types=["file.written"], page_size=1
    )
    assert [e.data["path"] for e in every] == ["workspace/c", "workspace/b", "workspace/a"]


async def test_list_namespaces_counts_the_files(trove: Twin, namespace: str) -> None:
    await trove("upload", "one.bin", b"12345")
    mine = [n for n in await trove("list_namespaces") if n.name == namespace]
    assert [(n.file_count, n.size_bytes) for n in mine] == [(1, 5)]


# --- admin: keys, webhooks, namespaces ------------------------------------------------------


async def test_a_namespace_locked_key_works_only_in_its_namespace_until_revoked(
    admin: Twin, trove_server: Any, namespace: str
) -> None:
    key = await admin("create_key", "session", namespace=namespace)
    assert key.key_id in [k.key_id for k in await admin("list_keys")]
    with trove_server.client(namespace, api_key=key.api_key) as own:
        own.write("a.txt", "x")
        with (
            trove_server.client("elsewhere", api_key=key.api_key) as other,
            pytest.raises(TroveAuthError),
        ):
            other.write("a.txt", "x")
        await admin("revoke_key", key.key_id)
        with pytest.raises(TroveAuthError) as info:
            own.me()
    assert info.value.status_code == 401
    with pytest.raises(TroveNotFoundError):
        await admin("revoke_key", key.key_id)


async def test_a_test_delivery_verifies_with_the_signing_secret(
    admin: Twin, receiver: Receiver, namespace: str
) -> None:
    hook = await admin("create_webhook", receiver.url, events="webhook.test", namespace=namespace)
    try:
        result = await admin("test_webhook", hook.webhook_id)
        assert (result.ok, result.status) == (True, 204)
        delivery = receiver.wait_for(1)[0]
        event = verify_webhook(
            secret=hook.signing_secret,
            body=delivery.body,
            signature_header=delivery.headers["X-Trove-Signature"],
        )
        assert isinstance(event, WebhookTest) and event.id == result.event_id
    finally:
        await admin("delete_webhook", hook.webhook_id)


async def test_during_a_rotation_deliveries_verify_with_either_secret(
    admin: Twin, receiver: Receiver, namespace: str
) -> None:
    hook = await admin("create_webhook", receiver.url, events=["webhook.test"], namespace=namespace)
    try:
        rotation = await admin("rotate_webhook_secret", hook.webhook_id, grace_seconds=60)
        await admin("test_webhook", hook.webhook_id)
        delivery = receiver.wait_for(1)[0]
        for secret in (rotation.signing_secret, hook.signing_secret):
            verify_webhook(
                secret=secret,
                body=delivery.body,
                signature_header=delivery.headers["X-Trove-Signature"],
            )
    finally:
        await admin("delete_webhook", hook.webhook_id)


async def test_the_delivery_log_shows_attempts_that_can_be_retried(
    admin: Twin, receiver: Receiver, namespace: str
) -> None:
    hook = await admin("create_webhook", receiver.url, events=["webhook.test"], namespace=namespace)
    try:
        sent = await admin("test_webhook", hook.webhook_id)
        page = await admin("list_deliveries", hook.webhook_id, limit=10)
        first = page.deliveries[0]
        assert (first.event_id, first.event_type, first.ok) == (sent.event_id, "webhook.test", True)
        again = await admin("retry_delivery", hook.webhook_id, first.delivery_id)
        assert again.event_id == sent.event_id
        assert [d.body for d in receiver.wait_for(2)] == [receiver.requests[0].body] * 2
    finally:
        await admin("delete_webhook", hook.webhook_id)


async def test_a_replay_sends_past_events_again(
    admin: Twin, receiver: Receiver, trove_server: Any, namespace: str
) -> None:
    hook = await admin("create_webhook", receiver.url, events=["file.written"], namespace=namespace)
    try:
        with trove_server.client(namespace) as client:
            client.write("a.txt", "x")
        first = receiver.wait_for(1)[0]
        replay = await admin("replay_webhook", hook.webhook_id, since="1h", types="file.written")
        assert replay.queued == 1
        assert receiver.wait_for(2)[1].body == first.body
    finally:
        await admin("delete_webhook", hook.webhook_id)


async def test_a_webhook_can_be_updated_and_deleted(admin: Twin, receiver: Receiver) -> None:
    hook = await admin("create_webhook", receiver.url, events=["file.deleted"])
    try:
        updated = await admin("update_webhook", hook.webhook_id, description="audit", enabled=False)
        assert (updated.description, updated.enabled, updated.events) == (
            "audit",
            False,
            ("file.deleted",),
        )
        listed = [w for w in await admin("list_webhooks") if w.webhook_id == hook.webhook_id]
        assert listed == [updated]
    finally:
        await admin("delete_webhook", hook.webhook_id)
    with pytest.raises(TroveNotFoundError):
        await admin("delete_webhook", hook.webhook_id)


async def test_deleting_a_namespace_removes_its_files(
    admin: Twin, trove_server: Any, namespace: str
) -> None:
    with trove_server.client(namespace) as client:
        client.write("a.txt", "x")
        client.write("b.txt", "y")
    assert await admin("delete_namespace", namespace) == 2
    assert namespace not in [n.name for n in await admin("list_namespaces")]


async def test_from_api_key_finds_the_workspace(trove_server: Any) -> None:
    with TroveAdminClient.from_api_key(
        trove_server.admin_key, base_url=trove_server.base_url
    ) as sync:
        assert sync.workspace_id == trove_server.workspace_id
    twin = await AsyncTroveAdminClient.from_api_key(
        trove_server.admin_key, base_url=trove_server.base_url
    )
    async with twin:
        assert twin.workspace_id == trove_server.workspace_id


# --- restarts: a separate server process, killed and started again -------------------------


@pytest.mark.slow
async def test_the_async_stream_resumes_across_a_server_crash_without_gap_or_duplicate(
    tmp_path: Path,
) -> None:
    import asyncio

    from trove_server.testing import spawn_server

    with spawn_server(tmp_path / "data", sse_keepalive=0.5) as server:
        async with AsyncTroveClient(
            server.api_key, "s", base_url=server.base_url, workspace_id=server.workspace_id
        ) as client:
            stream = client.stream_events(namespace="s", types="file.written")
            first = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.5)  # subscribed before anything is written
            await client.write("a", "x")
            seen = [(await asyncio.wait_for(first, 30)).event.data.path]
            await client.write("b", "x")
            seen.append((await asyncio.wait_for(stream.__anext__(), 30)).event.data.path)
            await asyncio.to_thread(server.kill)
            await asyncio.to_thread(server.restart)
            for name in ("c", "d"):
                await client.write(name, "x")  # a pooled connection from before the crash
            for _ in range(2):
                item = await asyncio.wait_for(stream.__anext__(), 30)
                seen.append(item.event.data.path)
            await stream.aclose()
    assert seen == ["workspace/a", "workspace/b", "workspace/c", "workspace/d"]
