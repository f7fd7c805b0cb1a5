"""``trove webhooks trigger TYPE``: a realistic signed sample event to your receiver, no server
needed (like ``stripe trigger``). ``--repeat``, ``--duplicates`` and ``--skew`` exercise a
receiver's dedupe and replay window."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import EXIT_NETWORK, CLIError
from trove_cli.forwarding import DEFAULT_TARGET
from trove_cli.options import json_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_cli.forwarding import Forwarder, Outcome

__all__ = ["trigger_command"]


def parse_data(value: str | None) -> dict[str, Any]:
    """``--data '{"path": "workspace/x"}'``: a JSON object, or a usage error saying where the
    JSON broke."""
    if value is None:
        return {}
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise click.BadParameter(
            f"must be a JSON object, not {type(data).__name__}", param_hint="--data"
        )
    return data


def check_type(event_type: str, allow_unknown: bool) -> str:
    from trove_sdk import EVENT_TYPES, suggest_event_type

    if event_type in EVENT_TYPES or allow_unknown:
        return event_type
    hint = suggest_event_type(event_type)
    known = ", ".join(sorted(EVENT_TYPES))
    did_you_mean = f"did you mean {hint!r}? " if hint else ""
    raise click.BadParameter(
        f"unknown event type {event_type!r}; {did_you_mean}known types: {known} "
        "(--allow-unknown sends it anyway)",
        param_hint="TYPE",
    )


def build_event(
    event_type: str, data: dict[str, Any], namespace: str | None
) -> tuple[dict[str, Any], bytes]:
    """A sample envelope and its compact JSON body, checked with ``parse_event`` so a bad
    ``--data`` field is reported here rather than by the receiver."""
    from trove_sdk import EventParseError, parse_event, sample_event

    kwargs: dict[str, Any] = {"data": data}
    if namespace is not None:
        kwargs["namespace"] = namespace
    envelope = sample_event(event_type, **kwargs)
    try:
        parse_event(envelope)
    except EventParseError as exc:
        raise click.BadParameter(str(exc), param_hint="--data") from None
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    return envelope, body


def _report(app: App, envelope: dict[str, Any], outcome: Outcome, dup: bool, as_json: bool) -> None:
    out = app.output
    if as_json:
        out.json(
            {
                "event_id": envelope["id"],
                "type": envelope["type"],
                "duplicate": dup,
                "status": outcome.status,
                "ok": outcome.ok,
                "latency_ms": round(outcome.latency_ms, 2),
                "response": outcome.body,
                "error": outcome.error,
            },
            compact=True,
        )
        return
    mark = "✓" if outcome.ok else "✗"
    result = str(outcome.status) if outcome.status is not None else (outcome.error or "?")
    tag = "  (duplicate)" if dup else ""
    reply = f"  {outcome.reply}" if outcome.reply else ""
    out.out.line(
        f"{mark} {envelope['type']:<18}  {envelope['id']}  →  {result}  "
        f"({outcome.latency_ms:.0f}ms){tag}{reply}",
        fg="green" if outcome.ok else "red",
    )


async def _send_all(
    app: App,
    forwarder: Forwarder,
    events: list[tuple[dict[str, Any], bytes]],
    *,
    duplicates: float,
    skew: int,
    as_json: bool,
) -> tuple[int, bool]:
    """Sends each event (and maybe its duplicate); returns (failures, unreachable)."""
    failures = 0
    try:
        for envelope, body in events:
            sends = [False] + ([True] if random.random() < duplicates else [])
            for attempt, dup in enumerate(sends, start=1):
                outcome = await forwarder.send(
                    body, envelope["type"], envelope["id"], attempt, skew=skew
                )
                _report(app, envelope, outcome, dup, as_json)
                if outcome.status is None:
                    return failures + 1, True
                if not outcome.ok:
                    failures += 1
    finally:
        await forwarder.aclose()
    return failures, False


@click.command("trigger")
@click.argument("event_type", metavar="TYPE")
@click.option("--forward-to", default=DEFAULT_TARGET, show_default=True, metavar="URL")
@click.option("--secret", envvar="TROVE_WEBHOOK_SECRET", default=None, help="Signing secret.")
@click.option("--data", default=None, metavar="JSON", help="Fields that override the sample's.")
@click.option("-n", "--namespace", default=None, help="The event's namespace.")
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Send this many events (each a new id).",
)
@click.option(
    "--duplicates",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Chance each event is sent a second time, same id (dedupe test).",
)
@click.option(
    "--skew",
    type=int,
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Shift the signature timestamp (e.g. -600: a stale, replayed delivery).",
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="An extra header (repeatable).",
)
@click.option("--allow-remote", is_flag=True, help="Allow a --forward-to on another machine.")
@click.option("--allow-unknown", is_flag=True, help="Send a TYPE the catalogue does not know.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the receiver.",
)
@json_option("One JSON line per delivery.")
@click.pass_context
def trigger_command(
    ctx: click.Context,
    event_type: str,
    forward_to: str,
    secret: str | None,
    data: str | None,
    namespace: str | None,
    repeat: int,
    duplicates: float,
    skew: int,
    headers: tuple[str, ...],
    allow_remote: bool,
    allow_unknown: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Send a signed sample TYPE event to a receiver and print its answers.

    \b
    trove webhooks trigger file.written
    trove webhooks trigger exec.completed --data '{"exit_code": 1}' -n alice
    trove webhooks trigger file.written --repeat 20 --duplicates 0.5   # dedupe
    trove webhooks trigger file.written --skew -600                     # stale: expect 400

    Exits 1 if any delivery got a non-2xx answer, 4 if the receiver could not be reached.
    """
    import asyncio

    from trove_cli.forwarding import (
        Forwarder,
        check_target,
        parse_headers,
        resolve_secret,
        secret_source,
    )

    app: App = ctx.obj
    check_type(event_type, allow_unknown)
    overrides = parse_data(data)
    target = check_target(forward_to, allow_remote=allow_remote)
    extra = parse_headers(headers)
    signing_secret, _ = resolve_secret(app, secret, secret_source(ctx))
    events = [build_event(event_type, overrides, namespace) for _ in range(repeat)]
    forwarder = Forwarder(target, signing_secret, headers=extra, timeout=timeout)
    failures, unreachable = asyncio.run(
        _send_all(app, forwarder, events, duplicates=duplicates, skew=skew, as_json=as_json)
    )
    if unreachable:
        raise CLIError(
            f"could not reach {target}; is your receiver running?", exit_code=EXIT_NETWORK
        )
    if failures:
        raise click.exceptions.Exit(1)
