"""Snapshots (CONTRACT §2.5, D11): create (201), list newest first, restore, delete."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from starlette.responses import Response

from trove_server import snapshots
from trove_server.clock import now_ms
from trove_server.errors import NotFound
from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import TIMESTAMP, obj
from trove_server.tokens import new_snapshot_id
from trove_server.validation import read_object

__all__ = ["routes"]

SNAPSHOT = obj(
    ["snapshot_id", "namespace", "label", "size_bytes", "created_at"],
    snapshot_id={"type": "string"},
    namespace={"type": "string"},
    label={"type": ["string", "null"]},
    size_bytes={"type": "integer"},
    created_at=TIMESTAMP,
)


def _create_schema(max_label: int) -> dict[str, object]:
    return obj([], label={"type": ["string", "null"], "maxLength": max_label})


def _retained_since(ctx: Ctx) -> int:
    return now_ms() - int(ctx.server.settings.snapshot_retention_days * 86_400_000)


def _build(ctx: Ctx, snapshot_id: str) -> tuple[int, int]:
    """Archive into a temp file, then rename it into the snapshots directory."""
    target = snapshots.archive_path(ctx.server, ctx.workspace_id, snapshot_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="snapshot-", dir=ctx.server.settings.tmp_dir)
    os.close(fd)
    try:
        files, size = snapshots.archive(
            ctx.server.namespace(ctx.workspace_id, ctx.namespace), Path(tmp)
        )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return files, size


async def create_snapshot(ctx: Ctx) -> Response:
    settings = ctx.server.settings
    body = await read_object(
        ctx.request, _create_schema(settings.label_max_chars), settings.max_json_bytes
    )
    label = body.get("label")
    snapshot_id = new_snapshot_id()
    files, size = await asyncio.to_thread(_build, ctx, snapshot_id)
    created = now_ms()
    with ctx.server.db.transaction() as conn:
        conn.execute(
            "INSERT INTO snapshots (id, workspace_id, namespace, label, size_bytes, files, "
            "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (snapshot_id, ctx.workspace_id, ctx.namespace, label, size, files, created),
        )
    row = ctx.server.db.one("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,))
    ctx.server.events.emit(
        ctx.workspace_id,
        "snapshot.created",
        {"snapshot_id": snapshot_id, "label": label, "size_bytes": size},
        namespace=ctx.namespace,
    )
    return json_response(snapshots.snapshot_object(row), status=201)


async def list_snapshots(ctx: Ctx) -> Response:
    rows = ctx.server.db.all(
        "SELECT * FROM snapshots WHERE workspace_id = ? AND namespace = ? AND created_ms >= ? "
        "ORDER BY created_ms DESC, rowid DESC LIMIT ?",
        (
            ctx.workspace_id,
            ctx.namespace,
            _retained_since(ctx),
            ctx.server.settings.snapshot_list_max,
        ),
    )
    return json_response({"snapshots": [snapshots.snapshot_object(r) for r in rows]})


def _find(ctx: Ctx) -> str:
    snapshot_id: str = ctx.request.path_params["snapshot_id"]
    row = ctx.server.db.one(
        "SELECT id FROM snapshots WHERE id = ? AND workspace_id = ? AND namespace = ? "
        "AND created_ms >= ?",
        (snapshot_id, ctx.workspace_id, ctx.namespace, _retained_since(ctx)),
    )
    if row is None:
        raise NotFound(f"Snapshot not found: {snapshot_id}")
    return snapshot_id


async def restore_snapshot(ctx: Ctx) -> Response:
    snapshot_id = _find(ctx)
    source = snapshots.archive_path(ctx.server, ctx.workspace_id, snapshot_id)
    if not source.exists():
        raise NotFound(f"Snapshot not found: {snapshot_id} (its archive is missing)")
    restored = await asyncio.to_thread(
        snapshots.restore, ctx.server.namespace(ctx.workspace_id, ctx.namespace), source
    )
    ctx.server.events.emit(
        ctx.workspace_id,
        "snapshot.restored",
        {"snapshot_id": snapshot_id, "files_restored": restored},
        namespace=ctx.namespace,
    )
    return json_response({"files_restored": restored})


async def delete_snapshot(ctx: Ctx) -> Response:
    snapshot_id = _find(ctx)
    with ctx.server.db.transaction() as conn:
        conn.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))
    await asyncio.to_thread(snapshots.delete_archive, ctx.server, ctx.workspace_id, snapshot_id)
    ctx.server.events.emit(
        ctx.workspace_id,
        "snapshot.deleted",
        {"snapshot_id": snapshot_id},
        namespace=ctx.namespace,
    )
    return json_response({"snapshot_id": snapshot_id, "deleted": True})


routes = [
    api(
        "POST",
        "/v1/snapshots",
        create_snapshot,
        access=Access.RUNTIME,
        operation=Operation(
            "Archive workspace/ now (kept for the retention period)",
            "snapshots",
            status=201,
            body=_create_schema(128),
            body_required=False,
            response=SNAPSHOT,
        ),
    ),
    api(
        "GET",
        "/v1/snapshots",
        list_snapshots,
        access=Access.RUNTIME,
        operation=Operation(
            "This namespace's snapshots, newest first",
            "snapshots",
            response=obj(["snapshots"], snapshots={"type": "array", "items": SNAPSHOT}),
        ),
    ),
    api(
        "POST",
        "/v1/snapshots/{snapshot_id}/restore",
        restore_snapshot,
        access=Access.RUNTIME,
        operation=Operation(
            "Wipe workspace/ and restore the snapshot",
            "snapshots",
            response=obj(["files_restored"], files_restored={"type": "integer"}),
            errors=(404,),
        ),
    ),
    api(
        "DELETE",
        "/v1/snapshots/{snapshot_id}",
        delete_snapshot,
        access=Access.RUNTIME,
        operation=Operation(
            "Delete a snapshot",
            "snapshots",
            response=obj(
                ["snapshot_id", "deleted"],
                snapshot_id={"type": "string"},
                deleted={"type": "boolean"},
            ),
            errors=(404,),
        ),
    ),
]
