"""Settings from the environment, and the checks made before serving."""

from __future__ import annotations

import pytest

from trove_webhooks import ConfigurationError, WebhookRouter
from trove_webhooks.config import ReceiverSettings, load_router


def settings(**env: str) -> ReceiverSettings:
    return ReceiverSettings.from_env({"TROVE_WEBHOOK_SECRET": "trove-whsec-a", **env})


def test_a_comma_separated_secret_is_a_rotation_list() -> None:
    assert settings(TROVE_WEBHOOK_SECRET="trove-whsec-new, trove-whsec-old").secrets == (
        "trove-whsec-new",
        "trove-whsec-old",
    )


def test_defaults_listen_on_loopback_port_8000_with_one_worker() -> None:
    s = settings()
    assert (s.host, s.port, s.workers, s.store, s.log_format) == (
        "127.0.0.1",
        8000,
        1,
        None,
        "text",
    )


def test_environment_values_are_read() -> None:
    s = settings(
        HOST="0.0.0.0",
        PORT="9000",
        WORKERS="3",
        LOG_FORMAT="JSON",
        TROVE_WEBHOOKS_STORE="redis://r",
    )
    assert (s.host, s.port, s.workers, s.log_format, s.store) == (
        "0.0.0.0",
        9000,
        3,
        "json",
        "redis://r",
    )


def test_a_number_that_is_not_one_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="PORT must be a whole number"):
        settings(PORT="eighty")


def test_the_settings_round_trip_through_the_environment_for_worker_processes() -> None:
    s = settings(
        TROVE_WEBHOOKS_STORE="sqlite:///x.db", TROVE_WEBHOOKS_ROUTER="m:r", TROVE_WEBHOOKS_LEASE="7"
    )
    again = ReceiverSettings.from_env(s.to_env())
    assert (again.secrets, again.store, again.router, again.lease_seconds) == (
        s.secrets,
        s.store,
        s.router,
        7,
    )


def test_the_secret_never_shows_in_the_settings_repr() -> None:
    assert "trove-whsec-a" not in repr(settings())


def test_no_secret_is_refused_with_how_to_set_it() -> None:
    with pytest.raises(ConfigurationError, match="TROVE_WEBHOOK_SECRET"):
        ReceiverSettings.from_env({}).validate()


def test_several_worker_processes_refuse_the_memory_store_and_name_alternatives() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(WORKERS="2").validate()
    assert "sqlite:///" in str(info.value) and "redis://" in str(info.value)


def test_several_worker_processes_accept_a_shared_store() -> None:
    settings(WORKERS="2", TROVE_WEBHOOKS_STORE="sqlite:///hooks.db").validate()


def test_a_port_outside_the_tcp_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="PORT must be between 0 and 65535"):
        settings(PORT="99999").validate()


@pytest.mark.parametrize(
    ("variable", "url", "expected"),
    [
        ("TROVE_WEBHOOKS_STORE", "redsi://localhost:6379/0", "Did you mean redis://"),
        ("TROVE_WEBHOOKS_STORE", "sqlite:///hooks.db?retention_seconds=soon", "hooks.db"),
        ("TROVE_WEBHOOKS_INBOX", "postgress://db/app", "Did you mean postgres"),
    ],
    ids=["store-scheme", "store-option", "inbox-scheme"],
)
def test_a_storage_url_no_process_could_open_is_refused_before_serving(
    variable: str, url: str, expected: str
) -> None:
    """Checked once in the parent: with several processes each would fail and be restarted."""
    with pytest.raises(ConfigurationError, match=expected):
        settings(WORKERS="2", **{variable: url}).validate()


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        settings(LOG_FORMAT="xml").validate()


def test_load_router_imports_module_and_attribute() -> None:
    router = load_router("tests.webhooks.process_hooks:router")
    assert isinstance(router, WebhookRouter)
    assert "file.written" in router.event_types


def test_load_router_defaults_the_attribute_to_router() -> None:
    assert isinstance(load_router("tests.webhooks.process_hooks"), WebhookRouter)


def test_load_router_calls_a_factory_function() -> None:
    assert isinstance(load_router("trove_webhooks.sink:json_lines_router"), WebhookRouter)


def test_load_router_explains_a_missing_module() -> None:
    with pytest.raises(ConfigurationError, match="cannot import handler module 'no_such_mod'"):
        load_router("no_such_mod:router")


def test_load_router_explains_an_attribute_that_is_not_a_router() -> None:
    with pytest.raises(ConfigurationError, match="must be a WebhookRouter"):
        load_router("tests.webhooks.process_hooks:os")
