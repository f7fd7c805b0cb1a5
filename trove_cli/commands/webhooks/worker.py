"""``trove webhooks worker MODULE:ROUTER --inbox URL``: a process that drains the inbox.

Run as many as the load needs, on as many hosts as share the inbox (PostgreSQL); each takes
entries with a lease, so a worker killed mid-handler only delays its event until the lease
ends. SIGTERM/SIGINT stop it after the events in hand are finished and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from trove_cli.commands.webhooks.serve import USAGE_ERROR, receiver_kit
from trove_cli.errors import CLIError

if TYPE_CHECKING:
    from trove_cli.app import App

__all__ = ["inbox_option", "worker_command"]

F = TypeVar("F", bound=Callable[..., Any])


def inbox_option(required: bool = True) -> Callable[[F], F]:
    return click.option(
        "--inbox",
        "inbox_url",
        envvar="TROVE_WEBHOOKS_INBOX",
        required=required,
        metavar="URL",
        help="Inbox URL: sqlite:///path or postgresql://... (default: TROVE_WEBHOOKS_INBOX).",
    )


@click.command("worker")
@click.argument("router", metavar="MODULE:ROUTER")
@inbox_option()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Events handled at once in this process.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Runs before an event is dead-lettered.",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=click.FloatRange(min=0.001),
    default=30.0,
    show_default=True,
    help="Seconds a run may take before it counts as failed.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(min=0.001),
    default=None,
    help="Seconds a claim lasts; a killed worker's event waits this long "
    "(default: the timeout plus 30).",
)
@click.option(
    "--backoff",
    "backoff_seconds",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="First retry delay; doubles per attempt, with jitter.",
)
@click.pass_obj
def worker_command(
    app: App,
    router: str,
    inbox_url: str,
    concurrency: int,
    max_attempts: int,
    timeout_seconds: float,
    lease_seconds: float | None,
    backoff_seconds: float,
    log_format: str,
) -> None:
    """Run the handlers in MODULE:ROUTER for events queued in the inbox.

    \b
      trove webhooks worker myapp.hooks:router --inbox postgresql://db/app --concurrency 4
    """
    import asyncio
    import logging.config

    config = receiver_kit()
    from trove_webhooks.errors import ConfigurationError
    from trove_webhooks.inbox import open_sync_inbox
    from trove_webhooks.inbox.worker import run_worker
    from trove_webhooks.logs import logging_config

    if lease_seconds is not None and lease_seconds <= timeout_seconds:
        raise click.BadParameter("must be longer than --timeout", param_hint="--lease")
    try:
        hooks = config.load_router(router)
        open_sync_inbox(inbox_url).close()  # a bad URL fails here, not in the loop
    except ConfigurationError as exc:
        raise CLIError(str(exc), exit_code=USAGE_ERROR) from None
    logging.config.dictConfig(logging_config(log_format))
    asyncio.run(
        run_worker(
            hooks,
            inbox_url,
            concurrency=concurrency,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            lease_seconds=lease_seconds,
            backoff_seconds=backoff_seconds,
        )
    )
