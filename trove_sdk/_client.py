"""``TroveClient`` and ``AsyncTroveClient``: files, exec and snapshots in one namespace.

``RuntimeOps`` holds every operation (request building, parsing, multi-step logic) once; the
twins below only drive them — each public method is one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

import httpx

from trove_sdk._base import (
    BinarySource,
    Call,
    Op,
    Parallel,
    Sink,
    Upload,
    parse_model,
)
from trove_sdk._config import (
    AGENT_MEMORY_PATH,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_NAMESPACE,
    ENV_WORKSPACE_ID,
    INIT_PATH,
    MAX_STDIN_BYTES,
    base_url_from_env,
    require_env,
)
from trove_sdk._exceptions import TroveError, TroveExecError, TroveNotFoundError
from trove_sdk._feed import EventsOps
from trove_sdk._feed_io import AsyncFeed, SyncFeed
from trove_sdk._models import (
    BytesContent,
    DownloadResult,
    ExecResult,
    FileContent,
    FileInfo,
    FileResult,
    Identity,
    ListResult,
    Snapshot,
    WorkspaceBootstrap,
)
from trove_sdk._paths import file_url, relative_path

__all__ = ["AsyncTroveClient", "TroveClient"]

T = TypeVar("T")
D = TypeVar("D")
C = TypeVar("C", bound="RuntimeOps")

_BOOTSTRAP_RECENT = 10
# Header values must not smuggle a second header in, and httpx sends them as ASCII.
_BAD_NAMESPACE = re.compile(r"[^\x20-\x7e]")
ProgressCallback = Callable[[int, "int | None"], object]


def join_chain(commands: Sequence[str]) -> str:
    """``["cd a", "ls"]`` → ``{ cd a; } && { ls; }``: brace groups, so ``cd`` and variables
    carry across steps (a subshell would drop them)."""
    if isinstance(commands, str) or not commands:
        raise ValueError("exec_chain needs a non-empty list of commands")
    parts = []
    for index, command in enumerate(commands):
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"exec_chain command at index {index} is empty")
        parts.append(_brace_group(command))
    return " && ".join(parts)


def _brace_group(command: str) -> str:
    """``{ cmd; }`` — or ``{ cmd`` + newline + ``}`` for a step that ``; }`` would break: one
    ending in a comment, in ``&`` or ``;``, or holding a here-document."""
    body = command.rstrip()
    if "\n" in body or "#" in body or body.endswith(("&", ";")):
        return "{ " + body + "\n}"
    return "{ " + command + "; }"


class RuntimeOps(EventsOps):
    """The runtime API (CONTRACT §2.3–2.5) as operations; no I/O here."""

    _namespace: str
    _workspace_id: str | None
    _timeout: float | None

    def _setup_runtime(self, namespace: str, workspace_id: str | None) -> None:
        if not isinstance(namespace, str) or not namespace or _BAD_NAMESPACE.search(namespace):
            raise ValueError(
                f"namespace must be a non-empty ASCII name without control characters, "
                f"got {namespace!r}"
            )
        self._namespace = namespace
        self._workspace_id = workspace_id

    @property
    def namespace(self) -> str:
        return self._namespace

    @classmethod
    def from_env(cls: type[C], namespace: str | None = None, **kwargs: Any) -> C:
        """A client configured from ``TROVE_API_KEY``, ``TROVE_NAMESPACE`` (unless
        ``namespace`` is given), ``TROVE_BASE_URL`` and ``TROVE_WORKSPACE_ID``; other keyword
        arguments go to the constructor."""
        kwargs.setdefault("base_url", base_url_from_env())
        kwargs.setdefault("workspace_id", os.environ.get(ENV_WORKSPACE_ID) or None)
        return cls(  # type: ignore[call-arg]
            require_env(ENV_API_KEY), namespace or require_env(ENV_NAMESPACE), **kwargs
        )

    def _runtime(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> Call:
        headers = {"X-Namespace": self._namespace, **kwargs.pop("headers", {})}
        return Call(method, url, headers=headers, idempotent=idempotent, **kwargs)

    # --- identity -----------------------------------------------------------------------

    def _workspace_op(self) -> Op[str]:
        if self._workspace_id is None:
            self._workspace_id = (yield from self._me_op()).workspace_id
        return self._workspace_id

    # --- exec ---------------------------------------------------------------------------

    def _exec_call(
        self, path: str, command: str, stdin: str | None, timeout_s: float | None
    ) -> Call:
        """The exec request for ``/v1/exec`` or the legacy ``/exec`` (same body)."""
        if not isinstance(command, str) or not command.strip():
            raise ValueError("command must be a non-empty string")
        body: dict[str, Any] = {"command": command}
        if stdin is not None:
            if not isinstance(stdin, str):
                raise TypeError(
                    "stdin must be text (str); upload() binary data and redirect from the file"
                )
            size = len(stdin.encode())
            if size > MAX_STDIN_BYTES:
                raise ValueError(
                    f"stdin is {size} bytes; the server accepts at most {MAX_STDIN_BYTES} "
                    "(upload the data and redirect from the file instead)"
                )
            body["stdin"] = stdin
        timeout: float | None = self._timeout
        if timeout_s is not None:
            if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
                raise TypeError(f"timeout_s must be a number of seconds, not {timeout_s!r}")
            body["timeout_s"] = timeout_s
            # Give the server time to answer 408 itself before our own clock runs out.
            timeout = None if timeout is None else max(timeout, timeout_s + 15)
        return self._runtime("POST", path, json=body, idempotent=False, timeout=timeout)

    def _exec_op(self, command: str, stdin: str | None, timeout_s: float | None) -> Op[ExecResult]:
        response = yield self._exec_call("/v1/exec", command, stdin, timeout_s)
        return parse_model(response, ExecResult.from_dict)

    def _exec_legacy_op(self, command: str, stdin: str | None) -> Op[str]:
        response: httpx.Response = yield self._exec_call("/exec", command, stdin, None)
        return response.text

    def _exec_text_op(
        self, command: str, stdin: str | None, timeout_s: float | None, check: bool
    ) -> Op[str]:
        result = yield from self._exec_op(command, stdin, timeout_s)
        if check and result.exit_code != 0:
            raise TroveExecError(command, result.exit_code, result.stdout, result.stderr)
        return result.as_legacy_text()

    # --- files --------------------------------------------------------------------------

    def _write_op(self, path: str, content: str) -> Op[FileResult]:
        if not isinstance(content, str):
            raise TypeError("write() takes text; use upload() for bytes")
        call = self._runtime(
            "POST",
            "/write",
            json={"path": relative_path(path), "content": content},
            idempotent=True,
        )
        return parse_model((yield call), FileResult.from_dict)

    def _upload_op(self, path: str, data: BinarySource) -> Op[FileResult]:
        call = self._runtime("PUT", file_url(path), upload=Upload(data), idempotent=True)
        return parse_model((yield call), FileResult.from_dict)

    def _delete_op(self, path: str) -> Op[str]:
        call = self._runtime("POST", "/delete", json={"path": relative_path(path)}, idempotent=True)
        body = parse_model((yield call), lambda d: str(d["deleted"]))
        return body

    def _list_op(self, path: str, recursive: bool) -> Op[ListResult]:
        params = {"path": path}
        if recursive:
            params["recursive"] = "true"
        call = self._runtime("GET", "/v1/files", params=params, idempotent=True)
        return parse_model((yield call), ListResult.from_dict)

    def _read_file_op(self, path: str) -> Op[FileContent]:
        call = self._runtime("GET", "/v1/files/content", params={"path": path}, idempotent=True)
        return parse_model((yield call), FileContent.from_dict)

    def _read_text_op(self, path: str) -> Op[str]:
        info = yield from self._read_file_op(path)
        if info.encoding == "binary":
            raise TroveError(
                f"{path} is binary; use read_bytes() or download() instead", status_code=415
            )
        return info.content or ""

    def _read_bytes_full_op(self, path: str) -> Op[BytesContent]:
        response: httpx.Response = yield self._runtime("GET", file_url(path), idempotent=True)
        raw = response.headers.get("x-trove-size")
        return BytesContent(
            content=response.content,
            truncated=response.headers.get("x-trove-truncated") == "1",
            size_bytes=int(raw) if raw and raw.isdigit() else None,
        )

    def _read_bytes_op(self, path: str) -> Op[bytes]:
        full = yield from self._read_bytes_full_op(path)
        return full.content

    def _read_op(self, path: str) -> Op[str | bytes]:
        info = yield from self._read_file_op(path)
        if info.encoding == "binary":
            return (yield from self._read_bytes_op(path))
        return info.content or ""

    def _download_op(
        self,
        path: str,
        dest: str | os.PathLike[str] | IO[bytes],
        progress: ProgressCallback | None,
    ) -> Op[DownloadResult]:
        sink = Sink(dest, progress)
        yield self._runtime("GET", file_url(path), idempotent=True, sink=sink)
        return DownloadResult(
            path=sink.path,
            bytes_written=sink.written,
            size_bytes=sink.size,
            truncated=sink.truncated,
        )

    @staticmethod
    def _optional(op: Op[T], default: D) -> Op[T | D]:
        """Run ``op``; a 404 becomes ``default``."""
        try:
            return (yield from op)
        except TroveNotFoundError:
            return default

    def _clear_init_op(self) -> Op[bool]:
        try:
            yield from self._delete_op(INIT_PATH)
        except TroveNotFoundError:
            return False
        return True

    def _note_op(self, path: str) -> Op[str | None]:
        """A convention file for ``bootstrap``: absent, binary or unreadable (``.trove`` made a
        plain file, say) reads as no note — orientation must not fail over a missing note."""
        try:
            return (yield from self._read_text_op(path))
        except TroveError as exc:
            if exc.status_code in (404, 409, 415, 422):
                return None
            raise

    def _bootstrap_op(self) -> Op[WorkspaceBootstrap]:
        listing, init, memory = yield Parallel(
            [
                self._list_op("workspace/", True),
                self._note_op(INIT_PATH),
                self._note_op(AGENT_MEMORY_PATH),
            ]
        )
        for outcome in (listing, init, memory):
            if isinstance(outcome, TroveError):
                raise outcome
        files: list[FileInfo] = [
            f for f in listing if not f.is_dir and not f.path.startswith("workspace/.trove/")
        ]
        files.sort(key=lambda f: f.modified_at, reverse=True)
        return WorkspaceBootstrap(
            namespace=self._namespace,
            file_count=len(files),
            last_modified_at=files[0].modified_at if files else None,
            recent_files=tuple(files[:_BOOTSTRAP_RECENT]),
            init_script=init,
            agent_memory=memory,
            truncated=listing.truncated,
        )

    # --- snapshots ----------------------------------------------------------------------

    def _create_snapshot_op(self, label: str | None) -> Op[Snapshot]:
        call = self._runtime(
            "POST",
            "/v1/snapshots",
            json={"label": label},
            idempotent=False,
            timeout=None if self._timeout is None else max(self._timeout, 120.0),
        )
        return parse_model((yield call), Snapshot.from_dict)

    def _list_snapshots_op(self) -> Op[list[Snapshot]]:
        response = yield self._runtime("GET", "/v1/snapshots", idempotent=True)
        return parse_model(
            response, lambda d: [Snapshot.from_dict(s) for s in d.get("snapshots") or ()]
        )

    def _restore_snapshot_op(self, snapshot_id: str) -> Op[int]:
        call = self._runtime(
            "POST",
            f"/v1/snapshots/{_segment(snapshot_id)}/restore",
            idempotent=False,
            timeout=None if self._timeout is None else max(self._timeout, 180.0),
        )
        return parse_model((yield call), lambda d: int(d.get("files_restored") or 0))

    def _delete_snapshot_op(self, snapshot_id: str) -> Op[None]:
        yield self._runtime("DELETE", f"/v1/snapshots/{_segment(snapshot_id)}", idempotent=True)


def _segment(value: str) -> str:
    """An id placed in a URL path; refuses anything that would change the route."""
    if not isinstance(value, str) or not value or "/" in value or value in (".", ".."):
        raise ValueError(f"invalid id {value!r}")
    from urllib.parse import quote

    return quote(value, safe="")


class TroveClient(RuntimeOps, SyncFeed):
    """Synchronous client for one namespace of a workspace.

    Parameters:
        api_key: a workspace key (``trove-sk-...``), unscoped or locked to ``namespace``.
        namespace: the namespace every runtime call works in (sent as ``X-Namespace``).
        base_url: the API root; the hosted service by default.
        timeout: seconds per request (None: no limit). Exec calls allow for the server's own.
        max_retries: retries on connection failures, and of safe requests on 408/429/502-504.
        http_client: an ``httpx.Client`` to reuse (it is not closed by ``close()``).
        workspace_id: skips a ``/v1/me`` lookup when the events API is used.
    """

    def __init__(
        self,
        api_key: str,
        namespace: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
        workspace_id: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._setup_runtime(namespace, workspace_id)
        self._init_http(http_client)

    def me(self) -> Identity:
        """Who this key is (``GET /v1/me``)."""
        return self._run(self._me_op())

    def exec(
        self,
        command: str,
        *,
        stdin: str | None = None,
        timeout_s: float | None = None,
        check: bool = False,
    ) -> str:
        """Run a shell command; returns stdout, or on a non-zero exit the legacy text
        ``[exit N]\\n`` + stderr + stdout. ``check=True`` raises ``TroveExecError`` instead."""
        return self._run(self._exec_text_op(command, stdin, timeout_s, check))

    def exec_legacy(self, command: str, *, stdin: str | None = None) -> str:
        """``POST /exec``, the text endpoint older servers have instead of ``/v1/exec``:
        stdout, ``(no output)``, or ``[exit N]`` + stderr + stdout as the server wrote it."""
        return self._run(self._exec_legacy_op(command, stdin))

    def exec_detailed(
        self, command: str, *, stdin: str | None = None, timeout_s: float | None = None
    ) -> ExecResult:
        """Run a shell command and return exit code, stdout and stderr separately.

        Each call gets a fresh shell with cwd at the namespace root (``workspace/`` inside
        it); ``workspace/.trove/init.sh`` is sourced first. A timeout raises
        ``TroveTimeoutError`` (408). Never retried: a command must not run twice.
        """
        return self._run(self._exec_op(command, stdin, timeout_s))

    def exec_chain(
        self,
        commands: Sequence[str],
        *,
        stdin: str | None = None,
        timeout_s: float | None = None,
    ) -> ExecResult:
        """Run several commands as one shell invocation: ``cd`` and variables carry across
        steps, the chain stops at the first failure, one timeout covers it all."""
        return self._run(self._exec_op(join_chain(commands), stdin, timeout_s))

    def write(self, path: str, content: str) -> FileResult:
        """Write a UTF-8 text file (created or overwritten; parents created)."""
        return self._run(self._write_op(path, content))

    def upload(self, path: str, data: BinarySource) -> FileResult:
        """Upload bytes or a binary file object, streamed in 1 MiB chunks (limit 100 MiB)."""
        return self._run(self._upload_op(path, data))

    def read(self, path: str) -> str | bytes:
        """``str`` for a UTF-8 file, ``bytes`` for a binary one (one request for text, two
        for binary)."""
        return self._run(self._read_op(path))

    def read_text(self, path: str) -> str:
        """A UTF-8 file's text (first 1 MiB); a binary file raises ``TroveError`` 415."""
        return self._run(self._read_text_op(path))

    def read_file(self, path: str) -> FileContent:
        """Metadata and text preview (``content`` None for binary)."""
        return self._run(self._read_file_op(path))

    def read_bytes(self, path: str) -> bytes:
        """A file's raw bytes (the server stops at 100 MiB; see ``read_bytes_full``)."""
        return self._run(self._read_bytes_op(path))

    def read_bytes_full(self, path: str) -> BytesContent:
        """Raw bytes plus whether the server truncated them and the full size."""
        return self._run(self._read_bytes_full_op(path))

    def download(
        self,
        path: str,
        dest: str | os.PathLike[str] | IO[bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> DownloadResult:
        """Stream a file to ``dest`` (a path, replaced atomically, or a binary file object)
        without holding it in memory; ``progress(done, total)`` after every chunk."""
        return self._run(self._download_op(path, dest, progress))

    def list_dir(self, path: str = "workspace/", *, recursive: bool = False) -> ListResult:
        """Directories first, then files, alphabetical; ``recursive`` walks depth-first
        (capped at 1000 entries / 20 levels: see ``.truncated``)."""
        return self._run(self._list_op(path, recursive))

    def delete(self, path: str) -> str:
        """Delete a file or a directory tree; returns the deleted ``workspace/...`` path."""
        return self._run(self._delete_op(path))

    def set_init(self, text: str) -> FileResult:
        """Set ``workspace/.trove/init.sh``, sourced before every command (cwd, env, venv)."""
        return self._run(self._write_op(INIT_PATH, text))

    def get_init(self) -> str | None:
        """The init script, or None when unset."""
        return self._run(self._optional(self._read_text_op(INIT_PATH), None))

    def clear_init(self) -> bool:
        """Remove the init script; False if there was none."""
        return self._run(self._clear_init_op())

    def bootstrap(self) -> WorkspaceBootstrap:
        """One-call orientation for an agent: file count, recent files, init.sh, agent.md."""
        return self._run(self._bootstrap_op())

    def create_snapshot(self, label: str | None = None) -> Snapshot:
        """Archive ``workspace/`` now (restorable for 30 days; label ≤ 128 characters)."""
        return self._run(self._create_snapshot_op(label))

    def list_snapshots(self) -> list[Snapshot]:
        """This namespace's snapshots, newest first."""
        return self._run(self._list_snapshots_op())

    def restore_snapshot(self, snapshot_id: str) -> int:
        """Wipe ``workspace/`` and restore the snapshot; returns the number of files."""
        return self._run(self._restore_snapshot_op(snapshot_id))

    def delete_snapshot(self, snapshot_id: str) -> None:
        return self._run(self._delete_snapshot_op(snapshot_id))


class AsyncTroveClient(RuntimeOps, AsyncFeed):
    """Asynchronous twin of ``TroveClient``: the same methods, awaited.

    Parameters:
        api_key: a workspace key (``trove-sk-...``), unscoped or locked to ``namespace``.
        namespace: the namespace every runtime call works in (sent as ``X-Namespace``).
        base_url: the API root; the hosted service by default.
        timeout: seconds per request (None: no limit). Exec calls allow for the server's own.
        max_retries: retries on connection failures, and of safe requests on 408/429/502-504.
        http_client: an ``httpx.AsyncClient`` to reuse (it is not closed by ``aclose()``).
        workspace_id: skips a ``/v1/me`` lookup when the events API is used.
    """

    def __init__(
        self,
        api_key: str,
        namespace: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        workspace_id: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._setup_runtime(namespace, workspace_id)
        self._init_http(http_client)

    async def me(self) -> Identity:
        return await self._run(self._me_op())

    async def exec(
        self,
        command: str,
        *,
        stdin: str | None = None,
        timeout_s: float | None = None,
        check: bool = False,
    ) -> str:
        return await self._run(self._exec_text_op(command, stdin, timeout_s, check))

    async def exec_legacy(self, command: str, *, stdin: str | None = None) -> str:
        return await self._run(self._exec_legacy_op(command, stdin))

    async def exec_detailed(
        self, command: str, *, stdin: str | None = None, timeout_s: float | None = None
    ) -> ExecResult:
        return await self._run(self._exec_op(command, stdin, timeout_s))

    async def exec_chain(
        self,
        commands: Sequence[str],
        *,
        stdin: str | None = None,
        timeout_s: float | None = None,
    ) -> ExecResult:
        return await self._run(self._exec_op(join_chain(commands), stdin, timeout_s))

    async def write(self, path: str, content: str) -> FileResult:
        return await self._run(self._write_op(path, content))

    async def upload(self, path: str, data: BinarySource) -> FileResult:
        return await self._run(self._upload_op(path, data))

    async def read(self, path: str) -> str | bytes:
        return await self._run(self._read_op(path))

    async def read_text(self, path: str) -> str:
        return await self._run(self._read_text_op(path))

    async def read_file(self, path: str) -> FileContent:
        return await self._run(self._read_file_op(path))

    async def read_bytes(self, path: str) -> bytes:
        return await self._run(self._read_bytes_op(path))

    async def read_bytes_full(self, path: str) -> BytesContent:
        return await self._run(self._read_bytes_full_op(path))

    async def download(
        self,
        path: str,
        dest: str | os.PathLike[str] | IO[bytes],
        *,
        progress: ProgressCallback | None = None,
    ) -> DownloadResult:
        return await self._run(self._download_op(path, dest, progress))

    async def list_dir(self, path: str = "workspace/", *, recursive: bool = False) -> ListResult:
        return await self._run(self._list_op(path, recursive))

    async def delete(self, path: str) -> str:
        return await self._run(self._delete_op(path))

    async def set_init(self, text: str) -> FileResult:
        return await self._run(self._write_op(INIT_PATH, text))

    async def get_init(self) -> str | None:
        return await self._run(self._optional(self._read_text_op(INIT_PATH), None))

    async def clear_init(self) -> bool:
        return await self._run(self._clear_init_op())

    async def bootstrap(self) -> WorkspaceBootstrap:
        return await self._run(self._bootstrap_op())

    async def create_snapshot(self, label: str | None = None) -> Snapshot:
        return await self._run(self._create_snapshot_op(label))

    async def list_snapshots(self) -> list[Snapshot]:
        return await self._run(self._list_snapshots_op())

    async def restore_snapshot(self, snapshot_id: str) -> int:
        return await self._run(self._restore_snapshot_op(snapshot_id))

    async def delete_snapshot(self, snapshot_id: str) -> None:
        return await self._run(self._delete_snapshot_op(snapshot_id))
