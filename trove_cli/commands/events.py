"""``trove tail`` (≡ ``events tail``) and ``trove events list``.

``tail`` is push-based: events arrive over the resumable stream as they happen (polling the
feed every ``--interval`` only when the server has no stream), and ``--since`` replays recent
events first with no gap before the live ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from trove_cli.options import json_option, namespace_option, types_option
from trove_cli.since import SinceParam

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_cli.live import EventSource
    from trove_sdk import Event

__all__ = ["events_group", "tail_command"]


def print_event(
    app: App, event: Event[object], payload: str | None, *, as_json: bool, verbose: bool
) -> None:
    from trove_cli.rendering import event_json, event_line

    out = app.output
    if as_json:
        out.out.line(event_json(event, payload))
    else:
        out.out.line(event_line(event, out.out, verbose=verbose))


async def _tail(
    app: App, source: EventSource, *, as_json: bool, verbose: bool, idle: float, limit: int | None
) -> None:
    import asyncio

    from trove_cli.live import SourceFailed

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(source.run())
    last_event = loop.time()
    idle_shown = False
    seen = 0
    try:
        while limit is None or seen < limit:
            wait: float | None = None
            if idle > 0 and not as_json and not idle_shown:
                wait = max(0.0, idle - (loop.time() - last_event))
            try:
                item = await asyncio.wait_for(source.queue.get(), wait)
            except asyncio.TimeoutError:
                app.output.note(f"· idle ({int(loop.time() - last_event)}s)")
                idle_shown = True
                continue
            if isinstance(item, SourceFailed):
                raise item.error
            print_event(app, item.event, item.payload, as_json=as_json, verbose=verbose)
            seen += 1
            last_event = loop.time()
            idle_shown = False
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@click.command("tail")
@namespace_option("Only this namespace (default: TROVE_NAMESPACE, then the profile's; else all).")
@types_option()
@click.option(
    "--since",
    type=SinceParam(),
    default=None,
    help="Replay from here first: `10m`, `1h30m`, an ISO timestamp (default: now).",
)
@json_option("One JSON object per line.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Poll interval, used only when the server has no event stream.",
)
@click.option(
    "--idle",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Print `· idle` to stderr after this many quiet seconds (0: never).",
)
@click.option("-v", "--verbose", is_flag=True, help="Full exec commands and first stdout line.")
@click.option(
    "--max-events",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Exit after N events (scripts waiting for something to happen).",
)
@click.pass_obj
def tail_command(
    app: App,
    namespace: str | None,
    types: list[str] | None,
    since: datetime | None,
    as_json: bool,
    interval: float,
    idle: float,
    verbose: bool,
    max_events: int | None,
) -> None:
    """Show events as they happen. Ctrl-C to stop."""
    import asyncio

    from trove_cli.live import EventSource

    profile = app.profile()
    namespace = app.namespace_or_none(namespace, profile)
    if not as_json:
        banner = f"tailing {profile.workspace_id}"
        if namespace:
            banner += f" namespace={namespace}"
        if types:
            banner += f" types={','.join(types)}"
        app.output.err.line(banner + "  (Ctrl-C to stop)", fg="blue")

    async def main() -> None:
        source = EventSource(app, since=since, types=types, namespace=namespace, interval=interval)
        await _tail(app, source, as_json=as_json, verbose=verbose, idle=idle, limit=max_events)

    asyncio.run(main())


@click.group("events")
def events_group() -> None:
    """The workspace's event log."""


events_group.add_command(tail_command)


@events_group.command("list")
@namespace_option("Only this namespace (default: TROVE_NAMESPACE, then the profile's; else all).")
@types_option()
@click.option("--since", type=SinceParam(), default=None, help="Only events after this.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--cursor", default=None, help="Continue from a previous page.")
@json_option("One JSON object per line.")
@click.option("-v", "--verbose", is_flag=True, help="Full exec commands and first stdout line.")
@click.pass_obj
def list_command(
    app: App,
    namespace: str | None,
    types: list[str] | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """One page of recent events, newest first."""
    profile = app.profile()
    namespace = app.namespace_or_none(namespace, profile)
    with app.admin() as admin:
        page = admin.list_events(
            since=since, types=types, namespace=namespace, limit=limit, cursor=cursor
        )
    out = app.output
    if not page.events:
        if not as_json:
            out.note("(no events)")
        return
    for event in page.events:
        print_event(app, event, None, as_json=as_json, verbose=verbose)
    if page.next_cursor and not as_json:
        out.note(f"… more available: continue with --cursor {page.next_cursor}")
