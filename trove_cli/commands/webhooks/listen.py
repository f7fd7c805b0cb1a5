"""``trove webhooks listen``: live workspace events, signed, to a receiver on this machine.

Like ``stripe listen``: no public URL, no tunnel. Events come from the resumable stream, are
re-signed (the exact bytes the server sent) with a secret your receiver knows, and are posted
with the production headers. What makes it safe to build on (``trove_cli.relay``): nothing is
lost across a receiver restart, a dropped connection, a server restart or a restart of
``listen`` itself (it resumes from its saved cursor), and each namespace's events arrive in
order.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from trove_cli.forwarding import DEFAULT_TARGET
from trove_cli.options import EventTypesParam, json_option
from trove_cli.since import SinceParam

if TYPE_CHECKING:
    import asyncio

    from trove_cli.app import App
    from trove_cli.cursors import CursorStore
    from trove_cli.forwarding import Forwarder, Outcome
    from trove_cli.live import LiveEvent
    from trove_cli.relay import Relay

__all__ = ["listen_command"]


class Listen:
    """One run of ``listen``: source → relay → printed lines and saved cursor."""

    def __init__(
        self,
        app: App,
        *,
        forwarder: Forwarder,
        store: CursorStore,
        types: list[str] | None,
        namespace: str | None,
        since: datetime | None,
        cursor: str | None,
        concurrency: int,
        as_json: bool,
        max_events: int | None,
    ) -> None:
        self.app = app
        self.forwarder = forwarder
        self.store = store
        self.types = types
        self.namespace = namespace
        self.since = since
        self.cursor = cursor
        self.concurrency = concurrency
        self.as_json = as_json
        self.max_events = max_events
        self.relay: Relay | None = None

    # --- printing ------------------------------------------------------------------------

    def on_result(self, item: LiveEvent, outcome: Outcome, attempts: int) -> None:
        from trove_cli.humanize import short_time

        out = self.app.output
        event = item.event
        if self.as_json:
            out.json(
                {
                    "event_id": event.id,
                    "type": event.type,
                    "namespace": event.namespace,
                    "created_at": event.created_at,
                    "status": outcome.status,
                    "ok": outcome.ok,
                    "attempts": attempts,
                    "latency_ms": round(outcome.latency_ms, 2),
                    "error": outcome.error,
                    "replayed": item.replayed,
                },
                compact=True,
            )
            return
        mark = "✓" if outcome.ok else "✗"
        result = str(outcome.status) if outcome.status is not None else (outcome.error or "?")
        retries = f"  after {attempts} attempts" if attempts > 1 else ""
        replay = "  (replay)" if item.replayed else ""
        line = (
            f"{short_time(event.created_at):<14}  {mark} {event.type:<18}  {event.id}  →  "
            f"{result}  ({outcome.latency_ms:.0f}ms){retries}{replay}"
        )
        out.out.line(line, fg="green" if outcome.ok else "red")
        if not outcome.ok and outcome.reply:
            out.warn(f"    receiver said: {outcome.reply}")

    def on_retry(self, item: LiveEvent, outcome: Outcome, attempt: int, delay: float) -> None:
        reason = outcome.error or f"HTTP {outcome.status}"
        self.app.output.warn(
            f"↻ {item.event.type} {item.event.id} → {reason}; "
            f"retry {attempt} in {delay:.1f}s (later {item.event.namespace or '-'} events wait)"
        )

    def on_connect(self, count: int) -> None:
        out = self.app.output
        if count == 1:
            out.err.line("✓ connected: forwarding events as they happen", fg="green")
        else:
            out.warn("↻ reconnected to the stream (resuming after the last event received)")

    def on_commit(self, cursor: str) -> None:
        self.store.save(cursor)

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        import asyncio

        from trove_cli.live import EventSource, SourceFailed
        from trove_cli.relay import Relay

        relay = self.relay = Relay(
            self.forwarder,
            concurrency=self.concurrency,
            on_result=self.on_result,
            on_retry=self.on_retry,
            on_commit=self.on_commit,
        )

        def start() -> tuple[EventSource, asyncio.Task[None]]:
            source = EventSource(
                self.app,
                since=self.since,
                cursor=self.cursor,
                types=self.types,
                namespace=self.namespace,
                on_connect=self.on_connect,
            )
            return source, asyncio.create_task(source.run())

        source, source_task = start()
        finished = asyncio.create_task(self._until_done(relay))
        received = 0
        try:
            while self.max_events is None or received < self.max_events:
                getter = asyncio.create_task(source.queue.get())
                done, _ = await asyncio.wait(
                    {getter, finished, relay.failure}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if relay.failure.done():
                        relay.failure.result()
                    return
                item = getter.result()
                if isinstance(item, SourceFailed):
                    if received == 0 and self._stale_cursor(item.error):
                        source_task.cancel()
                        await asyncio.gather(source_task, return_exceptions=True)
                        source, source_task = start()
                        continue
                    raise item.error
                received += 1
                await relay.submit(item)
            # --max-events: take no more from the stream; let the last ones finish.
            await asyncio.wait({finished, relay.failure}, return_when=asyncio.FIRST_COMPLETED)
            if relay.failure.done():
                relay.failure.result()
        finally:
            for task in (source_task, finished):
                task.cancel()
            await asyncio.gather(source_task, finished, return_exceptions=True)
            await relay.aclose()
            await self.forwarder.aclose()

    def _stale_cursor(self, error: BaseException) -> bool:
        """A saved cursor this server refuses (its data was reset): start from now."""
        from trove_sdk import TroveError

        if self.cursor is None or not isinstance(error, TroveError) or error.status_code != 400:
            return False
        self.app.output.warn(
            f"warning: the server refused the saved cursor {self.cursor} ({error.message}); "
            "starting from now"
        )
        self.cursor = None
        self.store.clear()
        return True

    async def _until_done(self, relay: Relay) -> None:
        import asyncio

        if self.max_events is None:
            await asyncio.Event().wait()
        while relay.stats.done < (self.max_events or 0):
            relay.progress.clear()
            await relay.progress.wait()


@click.command("listen")
@click.option(
    "--forward-to",
    default=DEFAULT_TARGET,
    show_default=True,
    metavar="URL",
    help="Your receiver (on this machine unless --allow-remote).",
)
@click.option(
    "-t",
    "--events",
    "--types",
    "types",
    type=EventTypesParam(),
    default=None,
    help="Only these event types (comma-separated).",
)
@click.option("-n", "--namespace", default=None, help="Only events of this namespace.")
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="An extra header on every delivery (repeatable).",
)
@click.option(
    "--secret",
    envvar="TROVE_WEBHOOK_SECRET",
    default=None,
    help="Signing secret (default: a local one kept in your profile).",
)
@click.option("--print-secret", is_flag=True, help="Print the signing secret and exit.")
@click.option(
    "--since",
    type=SinceParam(),
    default=None,
    help="Replay events after this first (`10m`, `1h`, an ISO timestamp).",
)
@click.option(
    "--no-resume",
    is_flag=True,
    help="Ignore the saved position and start from now (or --since).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Deliveries in flight at once (each namespace stays in order).",
)
@click.option(
    "--forward-timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait for the receiver before retrying.",
)
@click.option("--allow-remote", is_flag=True, help="Allow a --forward-to on another machine.")
@click.option(
    "--max-events",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Stop after N events (tests, benchmarks).",
)
@json_option("One JSON line per forwarded event.")
@click.pass_context
def listen_command(
    ctx: click.Context,
    forward_to: str,
    types: list[str] | None,
    namespace: str | None,
    headers: tuple[str, ...],
    secret: str | None,
    print_secret: bool,
    since: datetime | None,
    no_resume: bool,
    concurrency: int,
    forward_timeout: float,
    allow_remote: bool,
    max_events: int | None,
    as_json: bool,
) -> None:
    """Forward live events, signed, to a local receiver. Ctrl-C to stop.

    \b
    trove webhooks listen                               # → localhost:8000/trove/events
    trove webhooks listen --forward-to http://127.0.0.1:3000/hooks -t exec.completed
    trove webhooks listen --since 10m                   # replay the last 10 minutes first
    export TROVE_WEBHOOK_SECRET=$(trove webhooks listen --print-secret)

    It resumes where it stopped (per profile and target) and retries a receiver that is
    down until it answers, so events are never lost; receivers dedupe by event id.
    """
    import asyncio

    from trove_cli.cursors import CursorStore
    from trove_cli.forwarding import (
        Forwarder,
        check_target,
        parse_headers,
        resolve_secret,
        secret_source,
    )

    app: App = ctx.obj
    out = app.output
    signing_secret, origin = resolve_secret(app, secret, secret_source(ctx))
    if print_secret:
        out.out.line(signing_secret)
        return
    target = check_target(forward_to, allow_remote=allow_remote)
    extra = parse_headers(headers)
    profile = app.profile()
    store = CursorStore(profile, target)
    cursor = None if no_resume else store.load()

    out.err.line(f"✓ listening to {profile.workspace_id} at {profile.base_url}", fg="green")
    out.note(f"  forwarding → {target}")
    out.note(f"  signing secret: {signing_secret}  ({origin})")
    if cursor is not None:
        out.note(f"  resuming after event cursor {cursor} (--no-resume to start from now)")
    if since is not None:
        out.note(f"  replaying events since {since.isoformat()}")
    out.note("  Ctrl-C to stop")

    listener = Listen(
        app,
        forwarder=Forwarder(target, signing_secret, headers=extra, timeout=forward_timeout),
        store=store,
        types=types,
        namespace=namespace,
        since=since,
        cursor=cursor,
        concurrency=concurrency,
        as_json=as_json,
        max_events=max_events,
    )
    try:
        asyncio.run(listener.run())
    except KeyboardInterrupt:
        _summary(app, listener)
        raise
    _summary(app, listener)


def _summary(app: App, listener: Listen) -> None:
    if listener.relay is not None:
        app.output.info(listener.relay.stats.summary())
