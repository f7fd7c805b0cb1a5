"""``trove webhooks inbox``: look into the durable inbox and act on it.

stats · list [--status S] · show ID · retry ID | retry --dead ·
purge --older-than 7d [--dead] [--force];
every command takes ``--json`` and ``--inbox URL`` (default ``TROVE_WEBHOOKS_INBOX``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from trove_cli.commands.webhooks.serve import USAGE_ERROR, receiver_kit
from trove_cli.commands.webhooks.worker import inbox_option
from trove_cli.errors import CLIError
from trove_cli.options import json_option
from trove_cli.output import Output

if TYPE_CHECKING:
    from trove_webhooks.inbox import SqlInbox

__all__ = ["inbox_group"]

STATUSES = ["pending", "running", "done", "dead"]


@contextlib.contextmanager
def opened(url: str) -> Iterator[SqlInbox]:
    receiver_kit()
    from trove_webhooks.errors import ConfigurationError, StoreUnavailableError
    from trove_webhooks.inbox import open_sync_inbox

    try:
        inbox = open_sync_inbox(url)
    except ConfigurationError as exc:
        raise CLIError(str(exc), exit_code=USAGE_ERROR) from None
    if url.split("://", 1)[0].lower() == "sqlite":
        # Opening a SQLite inbox creates its file: a misspelt path would show an empty
        # inbox (and leave a stray file) instead of saying there is none.
        from trove_webhooks.stores.sqlite import sqlite_path_from_url

        path = sqlite_path_from_url(url)
        if not Path(path).is_file():
            inbox.close()
            raise CLIError(f"no inbox at {path}: check --inbox", exit_code=USAGE_ERROR)
    try:
        yield inbox
    except StoreUnavailableError as exc:
        raise CLIError(f"inbox unavailable: {exc.message}") from None
    finally:
        inbox.close()


def when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@click.group("inbox")
def inbox_group() -> None:
    """Inspect and operate the durable inbox (queued mode)."""


@inbox_group.command("stats")
@inbox_option()
@json_option()
def stats_command(inbox_url: str, as_json: bool) -> None:
    """Entries by status."""
    with opened(inbox_url) as inbox:
        counts = inbox.stats()
    out = Output()
    if as_json:
        out.json(counts)
        return
    out.table(["STATUS", "EVENTS"], [[s, str(counts[s])] for s in STATUSES], right=[1])


@inbox_group.command("list")
@inbox_option()
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option()
def list_command(inbox_url: str, status: str | None, limit: int, as_json: bool) -> None:
    """Newest entries first."""
    with opened(inbox_url) as inbox:
        entries = inbox.list(status=status, limit=limit)
    out = Output()
    if as_json:
        out.json({"entries": [e.summary() for e in entries]})
        return
    if not entries:
        out.note("(the inbox has no entries" + (f" with status {status})" if status else ")"))
        return
    rows = [
        [
            e.event_id,
            e.status.value,
            str(e.attempts),
            e.event_type,
            e.namespace or "-",
            when(e.received_at),
        ]
        for e in entries
    ]
    out.table(
        ["EVENT ID", "STATUS", "TRIES", "TYPE", "NAMESPACE", "RECEIVED (UTC)"], rows, right=[2]
    )


@inbox_group.command("show")
@click.argument("event_id")
@inbox_option()
@json_option()
def show_command(event_id: str, inbox_url: str, as_json: bool) -> None:
    """One entry: its state, last error (with traceback) and the event it holds."""
    import json

    with opened(inbox_url) as inbox:
        entry = inbox.get(event_id)
    if entry is None:
        raise CLIError(f"no inbox entry for event {event_id}")
    event: Any = json.loads(entry.body or b"null")
    out = Output()
    if as_json:
        out.json({**entry.summary(), "event": event, "headers": dict(entry.headers or {})})
        return
    summary = entry.summary()
    for key in ("event_id", "event_type", "namespace", "status", "attempts", "created_at"):
        out.out.line(f"{key + ':':<13} {summary[key] if summary[key] is not None else '-'}")
    out.out.line(f"{'received:':<13} {when(entry.received_at)}")
    out.out.line(f"{'completed:':<13} {when(entry.completed_at)}")
    out.out.line(f"{'event:':<13} {json.dumps(event, separators=(',', ':'))}")
    if entry.last_error:
        out.out.line("last error:")
        out.out.line(entry.last_error.rstrip())


@inbox_group.command("retry")
@click.argument("event_id", required=False)
@click.option("--dead", "all_dead", is_flag=True, help="Retry every dead entry.")
@inbox_option()
@json_option()
def retry_command(event_id: str | None, all_dead: bool, inbox_url: str, as_json: bool) -> None:
    """Queue a dead (or done) entry again — or every dead one with --dead."""
    if bool(event_id) == all_dead:
        raise click.UsageError("give an EVENT_ID or --dead (not both)")
    with opened(inbox_url) as inbox:
        if all_dead:
            count = inbox.retry_dead()
        else:
            assert event_id is not None
            count = int(inbox.retry(event_id))
            if not count and inbox.get(event_id) is None:
                raise CLIError(f"no inbox entry for event {event_id}")
    out = Output()
    if as_json:
        out.json({"requeued": count})
    elif event_id and not count:
        out.warn(f"{event_id} is pending or running already; nothing to retry")
    else:
        out.result(f"requeued {count} entr{'y' if count == 1 else 'ies'}")


@inbox_group.command("purge")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="DURATION",
    help="Age of entries to delete, e.g. 7d or 30d.",
)
@click.option("--dead", "include_dead", is_flag=True, help="Delete dead entries too.")
@click.option(
    "--force",
    is_flag=True,
    help="Purge entries younger than 3 days too, though a replay or late retry of them "
    "would then be handled again.",
)
@inbox_option()
@json_option()
def purge_command(
    older_than: str, include_dead: bool, force: bool, inbox_url: str, as_json: bool
) -> None:
    """Delete done entries received longer ago than --older-than (at least 3d)."""
    from trove_cli.since import parse_duration

    try:
        age = parse_duration(older_than).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    receiver_kit()
    from trove_webhooks.inbox.base import purge_age_problem

    problem = purge_age_problem(age)
    if problem and not force:
        raise click.BadParameter(
            f"{older_than} is too recent: {problem}. Add --force to purge anyway.",
            param_hint="--older-than",
        )
    with opened(inbox_url) as inbox:
        count = inbox.purge(older_than_seconds=age, include_dead=include_dead, force=force)
    out = Output()
    if as_json:
        out.json({"purged": count})
    else:
        out.result(f"purged {count} entr{'y' if count == 1 else 'ies'}")
