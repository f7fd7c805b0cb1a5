"""Receive Trove webhooks: verified, replay-safe, deduplicated, routed to typed handlers.

from trove_sdk import FileWritten
from trove_webhooks import WebhookRouter, create_app

hooks = WebhookRouter()

@hooks.on(FileWritten)
async def index(event: FileWritten) -> None:
    print(event.data.path)

app = create_app(hooks, secret=os.environ["TROVE_WEBHOOK_SECRET"], store="redis://...")
"""

from trove_webhooks.app import create_app
from trove_webhooks.context import DeliveryContext
from trove_webhooks.dispatch import DispatchResult, adispatch, dispatch
from trove_webhooks.errors import ConfigurationError, HandlerError, StoreUnavailableError
from trove_webhooks.receiver import AsyncReceiver, Outcome, Receiver
from trove_webhooks.routing import WebhookRouter
from trove_webhooks.stores import open_store, open_sync_store, register_store

__all__ = [
    "AsyncReceiver",
    "ConfigurationError",
    "DeliveryContext",
    "DispatchResult",
    "HandlerError",
    "Outcome",
    "Receiver",
    "StoreUnavailableError",
    "WebhookRouter",
    "adispatch",
    "create_app",
    "dispatch",
    "open_store",
    "open_sync_store",
    "register_store",
]
