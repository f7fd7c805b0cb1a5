"""``trove namespaces list|delete`` (extension X6; delete needs an admin key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local, format_size
from trove_cli.options import json_option, yes_option

if TYPE_CHECKING:
    from trove_cli.app import App

__all__ = ["namespaces_group"]


@click.group("namespaces")
def namespaces_group() -> None:
    """List and delete the workspace's namespaces."""


@namespaces_group.command("list")
@json_option()
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """Every namespace with its file count, size and last change."""
    with app.admin() as admin:
        namespaces = admin.list_namespaces()
    out = app.output
    if as_json:
        out.json(
            {
                "namespaces": [
                    {
                        "name": n.name,
                        "file_count": n.file_count,
                        "size_bytes": n.size_bytes,
                        "modified_at": n.modified_at,
                    }
                    for n in namespaces
                ]
            }
        )
        return
    if not namespaces:
        out.out.line("(no namespaces)", fg="bright_black")
        return
    out.table(
        ["NAMESPACE", "FILES", "SIZE", "MODIFIED"],
        [
            [n.name, str(n.file_count), format_size(n.size_bytes), format_local(n.modified_at)]
            for n in namespaces
        ],
        right=(1, 2),
    )


@namespaces_group.command("delete")
@click.argument("namespace")
@yes_option()
@json_option()
@click.pass_obj
def delete_command(app: App, namespace: str, yes: bool, as_json: bool) -> None:
    """Delete NAMESPACE and every file in it."""
    from trove_sdk import TroveNotFoundError

    if not yes:
        click.confirm(f"delete namespace {namespace} and all of its files?", abort=True, err=True)
    with app.admin() as admin:
        try:
            files = admin.delete_namespace(namespace)
        except TroveNotFoundError:
            raise CLIError(f"namespace not found: {namespace}") from None
    if as_json:
        app.output.json({"namespace": namespace, "files_deleted": files})
        return
    app.output.result(f"deleted namespace {namespace} ({files} files)", fg="red")
