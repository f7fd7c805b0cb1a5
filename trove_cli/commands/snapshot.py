"""``trove snapshot create|list|restore|delete`` for one namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local, format_size
from trove_cli.options import json_option, namespace_option, yes_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import Snapshot

__all__ = ["snapshot_group"]

CREATE_TIMEOUT = 120.0
RESTORE_TIMEOUT = 180.0
MAX_LABEL = 128


def snapshot_json(snap: Snapshot) -> dict[str, object]:
    return {
        "snapshot_id": snap.snapshot_id,
        "namespace": snap.namespace,
        "label": snap.label,
        "size_bytes": snap.size_bytes,
        "created_at": snap.created_at,
    }


@click.group("snapshot")
def snapshot_group() -> None:
    """Save the namespace's files and restore them later (30 days)."""


@snapshot_group.command("create")
@click.option("--label", default=None, help=f"A note shown in `snapshot list` (≤ {MAX_LABEL}).")
@namespace_option()
@json_option()
@click.pass_obj
def create_command(app: App, label: str | None, namespace: str | None, as_json: bool) -> None:
    """Archive workspace/ now."""
    if label is not None and len(label) > MAX_LABEL:
        raise CLIError(f"--label is {len(label)} characters; the limit is {MAX_LABEL}")
    with app.client(namespace, timeout=CREATE_TIMEOUT) as client:
        snap = client.create_snapshot(label)
    if as_json:
        app.output.json(snapshot_json(snap))
        return
    app.output.result(
        f"✓ snapshot {snap.snapshot_id}  ({format_size(snap.size_bytes)})  "
        f"namespace={snap.namespace}"
    )


@snapshot_group.command("list")
@namespace_option()
@json_option()
@click.pass_obj
def list_command(app: App, namespace: str | None, as_json: bool) -> None:
    """List the namespace's snapshots, newest first."""
    with app.client(namespace) as client:
        snaps = client.list_snapshots()
        name = client.namespace
    out = app.output
    if as_json:
        out.json({"snapshots": [snapshot_json(s) for s in snaps]})
        return
    if not snaps:
        out.out.line(f"(no snapshots in namespace {name})", fg="bright_black")
        return
    out.table(
        ["SNAPSHOT ID", "SIZE", "CREATED", "LABEL"],
        [
            [s.snapshot_id, format_size(s.size_bytes), format_local(s.created_at), s.label or "-"]
            for s in snaps
        ],
        right=(1,),
    )


@snapshot_group.command("restore")
@click.argument("snapshot_id")
@namespace_option()
@yes_option()
@json_option()
@click.pass_obj
def restore_command(
    app: App, snapshot_id: str, namespace: str | None, yes: bool, as_json: bool
) -> None:
    """Wipe workspace/ and restore the snapshot into it."""
    from trove_sdk import TroveNotFoundError

    with app.client(namespace, timeout=RESTORE_TIMEOUT) as client:
        if not yes:
            click.confirm(
                f"restore {snapshot_id} into namespace {client.namespace}? "
                "This WIPES its current files.",
                abort=True,
                err=True,
            )
        try:
            restored = client.restore_snapshot(snapshot_id)
        except TroveNotFoundError:
            raise CLIError(f"snapshot not found: {snapshot_id}") from None
        if as_json:
            app.output.json(
                {
                    "snapshot_id": snapshot_id,
                    "namespace": client.namespace,
                    "files_restored": restored,
                }
            )
            return
        app.output.result(
            f"restored {snapshot_id} → namespace {client.namespace}  (files_restored={restored})"
        )


@snapshot_group.command("delete")
@click.argument("snapshot_id")
@namespace_option()
@yes_option()
@json_option()
@click.pass_obj
def delete_command(
    app: App, snapshot_id: str, namespace: str | None, yes: bool, as_json: bool
) -> None:
    """Delete a snapshot."""
    from trove_sdk import TroveNotFoundError

    if not yes:
        click.confirm(f"delete snapshot {snapshot_id}?", abort=True, err=True)
    with app.client(namespace) as client:
        try:
            client.delete_snapshot(snapshot_id)
        except TroveNotFoundError:
            raise CLIError(f"snapshot not found: {snapshot_id}") from None
    if as_json:
        app.output.json({"snapshot_id": snapshot_id, "deleted": True})
        return
    app.output.result(f"deleted {snapshot_id}", fg="red")
