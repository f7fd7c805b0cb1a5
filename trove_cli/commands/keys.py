"""``trove keys list|create|revoke`` (an admin key is needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local
from trove_cli.options import json_option, yes_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import KeyMetadata

__all__ = ["keys_group"]


def key_json(key: KeyMetadata) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "prefix": key.prefix,
        "scope": key.scope,
        "namespace": key.namespace,
        "created_at": key.created_at,
    }


@click.group("keys")
def keys_group() -> None:
    """Manage the workspace's API keys (needs an admin key)."""


@keys_group.command("list")
@json_option()
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """List active keys."""
    with app.admin() as admin:
        keys = admin.list_keys()
    out = app.output
    if as_json:
        out.json({"keys": [key_json(k) for k in keys]})
        return
    if not keys:
        out.out.line("(no keys)", fg="bright_black")
        return
    out.table(
        ["KEY ID", "NAME", "SCOPE", "NAMESPACE", "CREATED", "PREFIX"],
        [
            [
                k.key_id,
                k.name or "-",
                k.scope,
                k.namespace or "-",
                format_local(k.created_at),
                k.prefix or "-",
            ]
            for k in keys
        ],
    )


@keys_group.command("create")
@click.argument("name")
@click.option("-n", "--namespace", default=None, help="Lock the key to one namespace.")
@click.option("--admin", is_flag=True, help="Mint an admin key (cannot be namespace-locked).")
@json_option()
@click.pass_obj
def create_command(app: App, name: str, namespace: str | None, admin: bool, as_json: bool) -> None:
    """Mint a key; its secret is printed once."""
    if admin and namespace:
        raise CLIError("--admin and --namespace cannot be combined: admin keys span the workspace")
    with app.admin() as client:
        created = client.create_key(name, namespace=namespace, admin=admin)
    out = app.output
    if as_json:
        out.json({**key_json(created), "api_key": created.api_key})
        return
    out.result("✓ key created (this secret is shown once — copy it now)")
    out.out.line()
    out.out.line(f"  api_key   : {created.api_key}")
    out.out.line(f"  key_id    : {created.key_id}")
    out.out.line(f"  name      : {created.name}")
    out.out.line(f"  scope     : {created.scope}")
    out.out.line(f"  namespace : {created.namespace or '-'}")
    out.out.line(f"  prefix    : {created.prefix}")


@keys_group.command("revoke")
@click.argument("key_id")
@yes_option()
@json_option()
@click.pass_obj
def revoke_command(app: App, key_id: str, yes: bool, as_json: bool) -> None:
    """Revoke a key now (requests with it get 401 from this moment)."""
    from trove_sdk import TroveNotFoundError

    if not yes:
        click.confirm(f"revoke {key_id}?", abort=True, err=True)
    with app.admin() as admin:
        try:
            admin.revoke_key(key_id)
        except TroveNotFoundError:
            raise CLIError(f"key not found: {key_id}") from None
    if as_json:
        app.output.json({"key_id": key_id, "revoked": True})
        return
    app.output.result(f"revoked {key_id}", fg="red")
