"""Files (CONTRACT §2.4): text writes, streamed uploads and downloads, listing, preview, delete.

Uploads and downloads stream in 1 MiB steps through a worker thread, so memory does not grow
with the file and the event loop never waits on the disk. An upload is written to a temp file
and renamed into place only when complete: a 413 or a dropped connection leaves nothing behind.
Path safety is ``paths.py``'s job; these handlers only speak HTTP.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from trove_server.clock import iso
from trove_server.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from trove_server.paths import AtomicFile, RelPath, fs_errors, open_file, parse
from trove_server.routing import Access, Ctx, Operation, Param, api, json_response
from trove_server.schemas import TIMESTAMP, obj
from trove_server.storage import NamespaceDir
from trove_server.validation import read_object

__all__ = ["routes"]

_FLUSH_BYTES = 4 << 20
_READ_BYTES = 1 << 20


class AnyPath(Convertor[str]):
    """Like Starlette's ``path``, but also matching control characters (``%0A``), so such a
    name reaches ``paths.parse`` and gets its 422 instead of a puzzling 404."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("trove_path", AnyPath())

FILE_RESULT = obj(["path", "size_bytes"], path={"type": "string"}, size_bytes={"type": "integer"})
WRITE = obj(["path", "content"], path={"type": "string"}, content={"type": "string"})
DELETE = obj(["path"], path={"type": "string"})
ENTRY = obj(
    ["name", "path", "is_dir", "size_bytes", "modified_at"],
    name={"type": "string"},
    path={"type": "string"},
    is_dir={"type": "boolean"},
    size_bytes={"type": ["integer", "null"]},
    modified_at=TIMESTAMP,
)
LISTING = obj(
    ["entries", "truncated"],
    entries={"type": "array", "items": ENTRY},
    truncated={"type": "boolean"},
)
CONTENT = obj(
    ["path", "size_bytes", "modified_at", "encoding", "content", "truncated"],
    path={"type": "string"},
    size_bytes={"type": "integer"},
    modified_at=TIMESTAMP,
    encoding={"type": "string", "enum": ["utf-8", "binary"]},
    content={"type": ["string", "null"]},
    truncated={"type": "boolean"},
)
PATH_QUERY = Param(
    "path",
    {"type": "string"},
    "workspace/... or a path relative to workspace/ (default: workspace/)",
)
RECURSIVE_QUERY = Param(
    "recursive", {"type": "string", "enum": ["true", "false", "1", "0"]}, "walk the tree"
)
REQUIRED_PATH_QUERY = Param("path", {"type": "string"}, "the file to read", required=True)


def _namespace(ctx: Ctx) -> NamespaceDir:
    return ctx.server.namespace(ctx.workspace_id, ctx.namespace)


def _file_path(raw: Any) -> RelPath:
    path = parse(raw)
    if not path.parts:
        raise Unprocessable("path must name a file inside workspace/")
    return path


def _commit(ns: NamespaceDir, atomic: AtomicFile, path: RelPath) -> int:
    with ns.workspace(create=True) as ws_fd:
        assert ws_fd is not None
        return atomic.commit(ws_fd, path, ns.owner)


async def _store(ctx: Ctx, path: RelPath, atomic: AtomicFile, source: str) -> Response:
    """Move a finished temp file into place and announce it."""
    size = await asyncio.to_thread(_commit, _namespace(ctx), atomic, path)
    ctx.server.events.emit(
        ctx.workspace_id,
        "file.written",
        {"path": path.display, "size_bytes": size, "source": source},
        namespace=ctx.namespace,
    )
    return json_response({"path": path.display, "size_bytes": size})


async def write(ctx: Ctx) -> Response:
    body = await read_object(ctx.request, WRITE, ctx.server.settings.max_json_bytes)
    path = _file_path(body["path"])
    data = body["content"].encode("utf-8")
    atomic = await asyncio.to_thread(AtomicFile, ctx.server.settings.tmp_dir)
    try:
        await asyncio.to_thread(atomic.write, data)
        return await _store(ctx, path, atomic, "write")
    finally:
        await asyncio.to_thread(atomic.abort)


async def upload(ctx: Ctx) -> Response:
    path = _file_path(ctx.request.path_params["path"])
    limit = ctx.server.settings.max_upload_bytes
    declared = ctx.request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload is {declared} bytes; the limit is {limit}")
    atomic = await asyncio.to_thread(AtomicFile, ctx.server.settings.tmp_dir)
    # One write in flight while the next 4 MiB arrive: network and disk overlap, and at most
    # 8 MiB are held in memory whatever the file's size.
    writing: asyncio.Future[None] | None = None
    try:
        pending: list[bytes] = []
        buffered = received = 0
        try:
            async for chunk in ctx.request.stream():
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLarge(f"upload is over the {limit}-byte limit")
                pending.append(chunk)
                buffered += len(chunk)
                if buffered >= _FLUSH_BYTES:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(asyncio.to_thread(atomic.write_all, pending))
                    pending, buffered = [], 0
        except ClientDisconnect:
            raise BadRequest("the upload was interrupted; nothing was stored") from None
        if writing is not None:
            await writing
            writing = None
        if pending:
            await asyncio.to_thread(atomic.write_all, pending)
        return await _store(ctx, path, atomic, "upload")
    finally:
        if writing is not None:
            await asyncio.gather(writing, return_exceptions=True)
        await asyncio.to_thread(atomic.abort)


def _open_for_download(ns: NamespaceDir, path: RelPath) -> tuple[int, int]:
    with ns.workspace() as ws_fd:
        if ws_fd is None:
            raise NotFound(f"Path not found: {path.display}")
        opened = open_file(ws_fd, path)
    return opened.fd, opened.size


async def _stream(fd: int, length: int) -> AsyncIterator[bytes]:
    try:
        offset = 0
        while offset < length:
            chunk = await asyncio.to_thread(os.pread, fd, min(_READ_BYTES, length - offset), offset)
            if not chunk:
                return  # the file shrank while we sent it
            offset += len(chunk)
            yield chunk
    finally:
        os.close(fd)


async def download(ctx: Ctx) -> Response:
    path = _file_path(ctx.request.path_params["path"])
    fd, size = await asyncio.to_thread(_open_for_download, _namespace(ctx), path)
    cap = ctx.server.settings.max_download_bytes
    length = min(size, cap)
    headers = {"X-Trove-Size": str(size), "Content-Length": str(length)}
    if size > cap:
        headers["X-Trove-Truncated"] = "1"
    return StreamingResponse(
        _stream(fd, length), headers=headers, media_type="application/octet-stream"
    )


async def delete(ctx: Ctx) -> Response:
    body = await read_object(ctx.request, DELETE, ctx.server.settings.max_json_bytes)
    path = parse(body["path"])
    await asyncio.to_thread(_namespace(ctx).delete, path)
    ctx.server.events.emit(
        ctx.workspace_id,
        "file.deleted",
        {"path": path.display, "source": "delete"},
        namespace=ctx.namespace,
    )
    return json_response({"deleted": path.display})


def _flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() in ("", "false", "0", "no"):
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    raise Unprocessable(f"{name} must be true or false, not {value!r}")


async def listing(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    path = parse(query.get("path", "workspace/"), listing=True)
    recursive = _flag(query.get("recursive"), "recursive")
    settings = ctx.server.settings
    entries, truncated = await asyncio.to_thread(
        _namespace(ctx).listing,
        path,
        recursive=recursive,
        max_entries=settings.listing_max_entries,
        max_depth=settings.listing_max_depth,
    )
    return json_response({"entries": entries, "truncated": truncated})


def _preview(ns: NamespaceDir, path: RelPath, cap: int) -> dict[str, Any]:
    fd, size = _open_for_download(ns, path)
    try:
        info = os.fstat(fd)
        with fs_errors(path):
            data = os.pread(fd, cap, 0)
    finally:
        os.close(fd)
    truncated = size > cap
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # D13: a multi-byte character cut by the cap still counts as text.
        cut_at_cap = truncated and exc.reason == "unexpected end of data"
        text = data[: exc.start].decode("utf-8") if cut_at_cap else None
    return {
        "path": path.display,
        "size_bytes": size,
        "modified_at": iso(info.st_mtime_ns // 1_000_000),
        "encoding": "utf-8" if text is not None else "binary",
        "content": text,
        "truncated": truncated,
    }


async def content(ctx: Ctx) -> Response:
    raw = ctx.request.query_params.get("path")
    if raw is None:
        raise Unprocessable("path is required (e.g. ?path=workspace/notes.md)")
    path = parse(raw, listing=True)
    if not path.parts:
        raise Unprocessable("path must name a file inside workspace/")
    preview = await asyncio.to_thread(
        _preview, _namespace(ctx), path, ctx.server.settings.preview_bytes
    )
    return json_response(preview)


_RUNTIME_ERRORS = (404, 409)
routes = [
    api(
        "POST",
        "/write",
        write,
        access=Access.RUNTIME,
        operation=Operation(
            "Write a UTF-8 text file (created or replaced; parents created)",
            "files",
            body=WRITE,
            response=FILE_RESULT,
            errors=(409, 413, 507),
        ),
    ),
    api(
        "PUT",
        "/files/{path:trove_path}",
        upload,
        access=Access.RUNTIME,
        operation=Operation(
            "Upload raw bytes (streamed; limit 100 MiB)",
            "files",
            raw_body=True,
            response=FILE_RESULT,
            errors=(409, 413, 507),
        ),
    ),
    api(
        "GET",
        "/files/{path:trove_path}",
        download,
        access=Access.RUNTIME,
        operation=Operation(
            "Download raw bytes (streamed; truncated at 100 MiB)",
            "files",
            media_type="application/octet-stream",
            errors=_RUNTIME_ERRORS,
            response_headers={
                "X-Trove-Size": {"type": "string"},
                "X-Trove-Truncated": {"type": "string"},
            },
        ),
    ),
    api(
        "POST",
        "/delete",
        delete,
        access=Access.RUNTIME,
        operation=Operation(
            "Delete a file or a directory tree",
            "files",
            body=DELETE,
            response=obj(["deleted"], deleted={"type": "string"}),
            errors=_RUNTIME_ERRORS,
        ),
    ),
    api(
        "GET",
        "/v1/files",
        listing,
        access=Access.RUNTIME,
        operation=Operation(
            "List a directory (directories first; recursive: depth-first, capped)",
            "files",
            params=(PATH_QUERY, RECURSIVE_QUERY),
            response=LISTING,
            errors=_RUNTIME_ERRORS,
        ),
    ),
    api(
        "GET",
        "/v1/files/content",
        content,
        access=Access.RUNTIME,
        operation=Operation(
            "File metadata and a text preview (first 1 MiB)",
            "files",
            params=(REQUIRED_PATH_QUERY,),
            response=CONTENT,
            errors=_RUNTIME_ERRORS,
        ),
    ),
]
