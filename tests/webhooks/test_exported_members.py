"""``trove_webhooks`` exports exactly what its docs name; a change here is an API change."""

from __future__ import annotations

import trove_webhooks


def test_the_public_names_are_pinned() -> None:
    assert sorted(trove_webhooks.__all__) == [
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


def test_every_exported_name_exists() -> None:
    for name in trove_webhooks.__all__:
        assert getattr(trove_webhooks, name) is not None


def test_every_error_is_a_trove_error() -> None:
    from trove_sdk import TroveError

    for error in (
        trove_webhooks.ConfigurationError,
        trove_webhooks.HandlerError,
        trove_webhooks.StoreUnavailableError,
    ):
        assert issubclass(error, TroveError)
