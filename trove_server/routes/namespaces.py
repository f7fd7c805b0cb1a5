"""Namespaces (X6): list them with their size; delete one with its files and snapshots.

Deleting a namespace first kills the commands running in it: one still writing would refill
directories as they are removed.
"""

from __future__ import annotations

import asyncio
import errno
import os
from typing import Any

from starlette.responses import Response

from trove_server import snapshots
from trove_server.auth import check_namespace
from trove_server.clock import iso
from trove_server.errors import Conflict, NotFound
from trove_server.eventlog import NewEvent
from trove_server.paths import remove_tree
from trove_server.routing import Access, Ctx, Operation, api, json_response
from trove_server.schemas import obj

__all__ = ["routes"]

NAMESPACE_INFO = obj(
    ["name", "file_count", "size_bytes", "modified_at"],
    name={"type": "string"},
    file_count={"type": "integer"},
    size_bytes={"type": "integer"},
    modified_at={"type": ["string", "null"]},
)


def _names(ctx: Ctx) -> list[str]:
    try:
        names = sorted(os.listdir(ctx.server.workspace_dir(ctx.workspace_id)))
    except FileNotFoundError:
        return []
    lock = ctx.principal.namespace
    return [n for n in names if lock is None or n == lock]


def _describe(ctx: Ctx, names: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        files, size, newest = ctx.server.namespace(ctx.workspace_id, name).usage()
        out.append(
            {
                "name": name,
                "file_count": files,
                "size_bytes": size,
                "modified_at": iso(newest) if newest is not None else None,
            }
        )
    return out


async def list_namespaces(ctx: Ctx) -> Response:
    described = await asyncio.to_thread(_describe, ctx, _names(ctx))
    return json_response({"namespaces": described})


def _remove(ctx: Ctx, name: str) -> int | None:
    base = ctx.server.workspace_dir(ctx.workspace_id)
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        return remove_tree(fd, name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY:
            raise
        raise Conflict(
            f"namespace {name} changed while it was being deleted (a command started in it); "
            "try again"
        ) from None
    finally:
        os.close(fd)


async def delete_namespace(ctx: Ctx) -> Response:
    name = check_namespace(ctx.request.path_params["namespace"])
    await ctx.server.runner.stop_commands_in(ctx.server.namespace(ctx.workspace_id, name).root)
    removed = await asyncio.to_thread(_remove, ctx, name)
    snaps = ctx.server.db.all(
        "SELECT id FROM snapshots WHERE workspace_id = ? AND namespace = ?",
        (ctx.workspace_id, name),
    )
    if removed is None and not snaps:
        raise NotFound(f"Namespace not found: {name}")
    with ctx.server.db.transaction() as conn:
        conn.execute(
            "DELETE FROM snapshots WHERE workspace_id = ? AND namespace = ?",
            (ctx.workspace_id, name),
        )
    for snap in snaps:
        await asyncio.to_thread(snapshots.delete_archive, ctx.server, ctx.workspace_id, snap["id"])
    events = [NewEvent("snapshot.deleted", {"snapshot_id": s["id"]}, name) for s in snaps]
    events.append(
        NewEvent("namespace.deleted", {"namespace": name, "files_deleted": removed or 0}, name)
    )
    ctx.server.events.emit_many(ctx.workspace_id, events)
    return json_response({"namespace": name, "deleted": True, "files_deleted": removed or 0})


routes = [
    api(
        "GET",
        "/v1/workspaces/{workspace_id}/namespaces",
        list_namespaces,
        access=Access.KEY,
        operation=Operation(
            "Namespaces with their file count, size and last change",
            "namespaces",
            response=obj(["namespaces"], namespaces={"type": "array", "items": NAMESPACE_INFO}),
        ),
    ),
    api(
        "DELETE",
        "/v1/workspaces/{workspace_id}/namespaces/{namespace}",
        delete_namespace,
        access=Access.ADMIN,
        admin_action="delete namespaces",
        operation=Operation(
            "Delete a namespace: its files and its snapshots",
            "namespaces",
            response=obj(
                ["namespace", "deleted", "files_deleted"],
                namespace={"type": "string"},
                deleted={"type": "boolean"},
                files_deleted={"type": "integer"},
            ),
            errors=(404, 409),
        ),
    ),
]
