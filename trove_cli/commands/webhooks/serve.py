"""``trove webhooks serve [MODULE:ROUTER]``: run the receiver (``trove_webhooks``) under uvicorn.

Options override the environment ``python -m trove_webhooks`` reads (``TROVE_WEBHOOK_SECRET``,
``TROVE_WEBHOOKS_STORE``, ``HOST``, ``PORT``, ``WORKERS``, ``LOG_FORMAT`` ...). Without a
router every verified event is printed as a JSON line.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import CLIError

if TYPE_CHECKING:
    from trove_cli.app import App

__all__ = ["receiver_kit", "serve_command"]

USAGE_ERROR = 2


def receiver_kit() -> Any:
    """``trove_webhooks.config``, or a one-line install hint."""
    try:
        from trove_webhooks import config
    except ImportError as exc:
        raise CLIError(
            f"the receiver needs the webhooks extra ({exc.name or exc}): "
            "pip install 'trove-sdk[webhooks]'"
        ) from None
    return config


@click.command("serve")
@click.argument("router", required=False, metavar="[MODULE:ROUTER]")
@click.option("--host", default=None, help="Interface to listen on (default: HOST or 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default: PORT or 8000)."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Server processes (default: WORKERS or 1; more than one needs a shared --store).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="SECRET",
    help="Signing secret; repeat during a rotation (default: TROVE_WEBHOOK_SECRET).",
)
@click.option("--store", default=None, metavar="URL", help="Idempotency store URL.")
@click.option("--inbox", default=None, metavar="URL", help="Durable inbox URL (queued mode).")
@click.option(
    "--inbox-workers",
    type=click.IntRange(min=0),
    default=None,
    help="Queued mode: worker tasks per process (0: use `trove webhooks worker`).",
)
@click.option(
    "--path",
    default=None,
    help="Where deliveries are POSTed (default /trove/events, where `listen` and `trigger` "
    "deliver).",
)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds a claim guards a running handler.",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None)
@click.pass_obj
def serve_command(app: App, router: str | None, secrets: tuple[str, ...], **options: Any) -> None:
    """Receive Trove webhooks: verify, dedupe, and run the handlers in MODULE:ROUTER.

    \b
      trove webhooks serve myapp.hooks:router --port 8000 --store redis://localhost:6379/0
      TROVE_WEBHOOK_SECRET=trove-whsec-... trove webhooks serve     # print events as JSON
    """
    from trove_cli.output import Output

    config = receiver_kit()
    from trove_webhooks.errors import ConfigurationError
    from trove_webhooks.stores import mask_url

    changes = {k: v for k, v in options.items() if v is not None}
    if router:
        changes["router"] = router
    if secrets:
        changes["secrets"] = tuple(secrets)
    try:
        settings = dataclasses.replace(config.ReceiverSettings.from_env(), **changes)
        settings.validate()
        if settings.router:
            config.load_router(settings.router)
    except ConfigurationError as exc:
        raise CLIError(str(exc), exit_code=USAGE_ERROR) from None
    storage = settings.inbox or settings.store or "memory://"
    Output().info(
        f"Receiving Trove webhooks on http://{settings.host}:{settings.port}{settings.path} "
        f"({'inbox' if settings.inbox else 'store'}: {mask_url(storage)}, "
        f"{settings.workers} process{'es' if settings.workers > 1 else ''}, "
        f"handlers: {settings.router or 'print each event as JSON'})"
    )
    config.serve(settings)
