"""The delivery log of a subscription (extension X2): ``deliveries``, ``retry``, ``replay``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from trove_cli.errors import CLIError
from trove_cli.humanize import format_local
from trove_cli.options import json_option, types_option
from trove_cli.since import SinceParam

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_sdk import Delivery

__all__ = ["deliveries_command", "delivery_json", "replay_command", "retry_command"]


def delivery_json(d: Delivery) -> dict[str, object]:
    return {
        "delivery_id": d.delivery_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "attempt": d.attempt,
        "status": d.status,
        "ok": d.ok,
        "error": d.error,
        "duration_ms": d.duration_ms,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
    }


def _outcome(d: Delivery) -> str:
    if d.ok:
        return f"✓ {d.status}"
    if d.status is None and d.error is None:
        return "… pending"
    return f"✗ {d.status if d.status is not None else d.error}"


@click.command("deliveries")
@click.argument("webhook_id")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--cursor", default=None, help="Continue from a previous page.")
@json_option()
@click.pass_obj
def deliveries_command(
    app: App, webhook_id: str, limit: int, cursor: str | None, as_json: bool
) -> None:
    """Recent delivery attempts of a subscription, newest first."""
    from trove_sdk import TroveNotFoundError

    with app.admin() as admin:
        try:
            page = admin.list_deliveries(webhook_id, limit=limit, cursor=cursor)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    out = app.output
    if as_json:
        out.json(
            {
                "deliveries": [delivery_json(d) for d in page.deliveries],
                "next_cursor": page.next_cursor,
            }
        )
        return
    if not page.deliveries:
        out.out.line("(no deliveries yet)", fg="bright_black")
        return
    rows = []
    for d in page.deliveries:
        retry = f"retry {format_local(d.next_attempt_at)}" if d.next_attempt_at else ""
        rows.append(
            [
                d.delivery_id,
                d.event_id,
                d.event_type,
                str(d.attempt),
                _outcome(d),
                f"{d.duration_ms}ms" if d.duration_ms is not None else "-",
                format_local(d.created_at),
                retry or (d.error or "" if not d.ok else ""),
            ]
        )
    out.table(
        ["DELIVERY ID", "EVENT ID", "TYPE", "ATTEMPT", "RESULT", "TIME", "AT", "NOTE"],
        rows,
        right=(3, 5),
    )
    if page.next_cursor:
        out.note(f"… more available: continue with --cursor {page.next_cursor}")


@click.command("retry")
@click.argument("webhook_id")
@click.argument("delivery_id")
@json_option()
@click.pass_obj
def retry_command(app: App, webhook_id: str, delivery_id: str, as_json: bool) -> None:
    """Queue one delivery's event to be sent again now."""
    from trove_sdk import TroveNotFoundError

    with app.admin() as admin:
        try:
            delivery = admin.retry_delivery(webhook_id, delivery_id)
        except TroveNotFoundError:
            raise CLIError(f"not found: webhook {webhook_id} / delivery {delivery_id}") from None
    if as_json:
        app.output.json(delivery_json(delivery))
        return
    app.output.result(
        f"queued {delivery.event_id} ({delivery.event_type}) again  →  {_outcome(delivery)}  "
        f"delivery={delivery.delivery_id}",
        fg="green" if delivery.ok else None,
    )


@click.command("replay")
@click.argument("webhook_id")
@click.option(
    "--since",
    type=SinceParam(),
    required=True,
    help="Queue again every matching event after this: `1h`, `30m`, an ISO timestamp.",
)
@types_option("Only these event types (comma-separated).")
@json_option()
@click.pass_obj
def replay_command(
    app: App, webhook_id: str, since: datetime, types: list[str] | None, as_json: bool
) -> None:
    """Queue past events for delivery again (after fixing a receiver)."""
    from trove_sdk import TroveNotFoundError

    with app.admin() as admin:
        try:
            result = admin.replay_webhook(webhook_id, since=since, types=types)
        except TroveNotFoundError:
            raise CLIError(f"webhook not found: {webhook_id}") from None
    if as_json:
        app.output.json({"webhook_id": webhook_id, "queued": result.queued})
        return
    app.output.result(f"queued {result.queued} events for {webhook_id}")
