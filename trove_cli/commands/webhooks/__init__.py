"""``trove webhooks``: subscriptions (list, create, update, delete, test, rotate-secret) here;
the delivery log, local forwarding, samples and the receiver in their own modules.

Subcommands in ``SUBCOMMANDS`` are imported only when used (one line each).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local
from trove_cli.options import json_option, yes_option
from trove_cli.root import LazyGroup

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import WebhookMetadata

__all__ = ["SUBCOMMANDS", "webhook_json", "webhooks_group"]

# name → "module:attribute"
SUBCOMMANDS: dict[str, str] = {
    "listen": "trove_cli.commands.webhooks.listen:listen_command",
    "trigger": "trove_cli.commands.webhooks.trigger:trigger_command",
    "deliveries": "trove_cli.commands.webhooks.deliveries:deliveries_command",
    "retry": "trove_cli.commands.webhooks.deliveries:retry_command",
    "replay": "trove_cli.commands.webhooks.deliveries:replay_command",
    "serve": "trove_cli.commands.webhooks.serve:serve_command",
    "worker": "trove_cli.commands.webhooks.worker:worker_command",
    "inbox": "trove_cli.commands.webhooks.inbox:inbox_group",
}

TEST_TIMEOUT = 30.0


def webhook_json(hook: WebhookMetadata) -> dict[str, object]:
    return {
        "webhook_id": hook.webhook_id,
        "url": hook.url,
        "events": list(hook.events),
        "namespace": hook.namespace,
        "description": hook.description,
        "enabled": hook.enabled,
        "created_at": hook.created_at,
        "last_delivery_at": hook.last_delivery_at,
        "last_delivery_ok": hook.last_delivery_ok,
        "last_delivery_status": hook.last_delivery_status,
    }


def split_events(value: str) -> list[str]:
    names = [e.strip() for e in value.split(",") if e.strip()]
    if not names:
        raise CLIError("--events needs at least one event type (or `*`)")
    return names


@click.group("webhooks", cls=LazyGroup, lazy=SUBCOMMANDS)
def webhooks_group() -> None:
    """Deliver workspace events to your URLs — and to your laptop with `listen`."""


@webhooks_group.command("list")
@json_option()
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """List subscriptions and how their last delivery went."""
    with app.admin() as admin:
        hooks = admin.list_webhooks()
    out = app.output
    if as_json:
        out.json({"webhooks": [webhook_json(h) for h in hooks]})
        return
    if not hooks:
        out.out.line(
            "(no webhooks; create one with `trove webhooks create <url>`)", fg="bright_black"
        )
        return
    header = f"{'WEBHOOK ID':<20}  {'EVENTS':<28}  {'NAMESPACE':<12}  {'CREATED':<16}  URL"
    out.out.line(header, bold=True)
    for hook in hooks:
        events = ",".join(hook.events)
        state = "" if hook.enabled else "  (disabled)"
        out.out.line(
            f"{hook.webhook_id:<20}  {events[:28]:<28}  {(hook.namespace or '-')[:12]:<12}  "
            f"{format_local(hook.created_at):<16}  {hook.url}{state}"
        )
        if hook.last_delivery_at is not None:
            ok = bool(hook.last_delivery_ok)
            at = format_local(hook.last_delivery_at)
            out.out.line(
                f"  └─ last delivery {'✓' if ok else '✗'}  "
                f"status={hook.last_delivery_status or '-'}  at {at}",
                fg="green" if ok else "red",
            )


@webhooks_group.command("create")
@click.argument("url")
@click.option("--events", default="*", show_default=True, help="Comma-separated event types.")
@click.option("-n", "--namespace", default=None, help="Only events of this namespace.")
@click.option("--description", default=None, help="A note for humans.")
@json_option()
@click.pass_obj
def create_command(
    app: App, url: str, events: str, namespace: str | None, description: str | None, as_json: bool
) -> None:
    """Subscribe URL to events; the signing secret is printed once."""
    with app.admin() as admin:
        hook = admin.create_webhook(
            url, events=split_events(events), namespace=namespace, description=description
        )
    out = app.output
    if as_json:
        out.json({**webhook_json(hook), "signing_secret": hook.signing_secret})
        return
    out.result("✓ webhook created (the signing secret is shown once — save it now)")
    out.out.line()
    out.out.line(f"  webhook_id     : {hook.webhook_id}")
    out.out.line(f"  url            : {hook.url}")
    out.out.line(f"  events         : {','.join(hook.events)}")
    out.out.line(f"  namespace      : {hook.namespace or '-'}")
    out.out.line(f"  signing_secret : {hook.signing_secret}")
    out.out.line()
    out.note("  Verify deliveries with trove_sdk.verify_webhook(secret, body, signature_header)")
    out.note("  or serve them with `trove webhooks serve`.")


@webhooks_group.command("update")
@click.argument("webhook_id")
@click.option("--url", default=None, help="A new delivery URL.")
@click.option("--events", default=None, help="Comma-separated event types (`*`: all).")
@click.option("-n", "--namespace", default=None, help="Only events of this namespace.")
@click.option("--all-namespaces", is_flag=True, help="Remove the namespace filter.")
@click.option("--description", default=None, help="A note for humans.")
@click.option("--enable/--disable", "enabled", default=None, help="Resume or pause deliveries.")
@json_option()
@click.pass_obj
def update_command(
    app: App,
    webhook_id: str,
    url: str | None,
    events: str | None,
    namespace: str | None,
    all_namespaces: bool,
    description: str | None,
    enabled: bool | None,
    as_json: bool,
) -> None:
    """Change a subscription: only the options given change."""
    from trove_sdk import UNCHANGED, TroveNotFoundError

    if namespace is not None and all_namespaces:
        raise CLIError("pass --namespace or --all-namespaces, not both")
    changes = {
        "url": url if url is not None else UNCHANGED,
        "events": split_events(events) if events is not None else UNCHANGED,
        "namespace": None if all_namespaces else (namespace if namespace else UNCHANGED),
        "description": description if description is not None else UNCHANGED,
        "enabled": enabled if enabled is not None else UNCHANGED,
    }
    if all(value is UNCHANGED for value in changes.values()):
        raise CLIError(
            "nothing to change: pass --url, --events, --namespace, --all-namespaces, "
            "--description, --enable or --disable"
        )
    with app.admin() as admin:
        try:
            hook = admin.update_webhook(webhook_id, **changes)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    if as_json:
        app.output.json(webhook_json(hook))
        return
    app.output.result(
        f"updated {hook.webhook_id}  url={hook.url}  events={','.join(hook.events)}  "
        f"namespace={hook.namespace or '*'}  {'enabled' if hook.enabled else 'disabled'}"
    )


@webhooks_group.command("delete")
@click.argument("webhook_id")
@yes_option()
@json_option()
@click.pass_obj
def delete_command(app: App, webhook_id: str, yes: bool, as_json: bool) -> None:
    """Remove a subscription."""
    from trove_sdk import TroveNotFoundError

    if not yes:
        click.confirm(f"delete {webhook_id}?", abort=True, err=True)
    with app.admin() as admin:
        try:
            admin.delete_webhook(webhook_id)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    if as_json:
        app.output.json({"webhook_id": webhook_id, "deleted": True})
        return
    app.output.result(f"deleted {webhook_id}", fg="red")


@webhooks_group.command("test")
@click.argument("webhook_id")
@json_option()
@click.pass_obj
def test_command(app: App, webhook_id: str, as_json: bool) -> None:
    """Send a `webhook.test` event now and show the receiver's answer."""
    from trove_sdk import TroveNotFoundError

    with app.admin(timeout=TEST_TIMEOUT) as admin:
        try:
            result = admin.test_webhook(webhook_id)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    out = app.output
    if as_json:
        out.json(
            {
                "ok": result.ok,
                "event_id": result.event_id,
                "status": result.status,
                "error": result.error,
            }
        )
    elif result.ok:
        out.result(f"✓ delivered  status={result.status}  event_id={result.event_id}")
    else:
        out.result(
            f"✗ failed  status={result.status or '-'}  error={result.error or '-'}", fg="red"
        )
    if not result.ok:
        raise click.exceptions.Exit(1)


@webhooks_group.command("rotate-secret")
@click.argument("webhook_id")
@click.option(
    "--grace",
    default="24h",
    show_default=True,
    help="How long the old secret keeps signing too (`0s`: stop now; `1h30m`; `2d`).",
)
@json_option()
@click.pass_obj
def rotate_secret_command(app: App, webhook_id: str, grace: str, as_json: bool) -> None:
    """Issue a new signing secret; the new one is printed once."""
    from trove_cli.since import parse_duration
    from trove_sdk import TroveNotFoundError

    try:
        grace_seconds = int(parse_duration(grace).total_seconds())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--grace") from None
    with app.admin() as admin:
        try:
            rotation = admin.rotate_webhook_secret(webhook_id, grace_seconds=grace_seconds)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    out = app.output
    if as_json:
        out.json(
            {
                "webhook_id": webhook_id,
                "signing_secret": rotation.signing_secret,
                "previous_expires_at": rotation.previous_expires_at,
            }
        )
        return
    out.result("✓ new signing secret (shown once — save it now)")
    out.out.line(f"  signing_secret      : {rotation.signing_secret}")
    until = format_local(rotation.previous_expires_at) if rotation.previous_expires_at else "now"
    out.out.line(f"  old secret valid to : {until}")
    out.note("  Receivers should accept both secrets until then (WebhookVerifier([new, old])).")
