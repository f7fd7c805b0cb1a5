"""Choosing a store by URL: the scheme table, helpful errors, masked passwords, lazy drivers."""

from __future__ import annotations

import pytest

from trove_webhooks import ConfigurationError, open_store, open_sync_store, register_store
from trove_webhooks.stores import STORE_SCHEMES
from trove_webhooks.stores.memory import AsyncMemoryStore, MemoryStore
from trove_webhooks.stores.sqlite import AsyncSQLiteStore, SQLiteStore


def test_no_url_means_the_in_memory_store() -> None:
    assert isinstance(open_store(None), AsyncMemoryStore)
    assert isinstance(open_sync_store(None), MemoryStore)


def test_a_store_instance_is_returned_unchanged() -> None:
    store = AsyncMemoryStore()
    assert open_store(store) is store


def test_each_scheme_opens_its_twin(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    assert isinstance(open_store(url), AsyncSQLiteStore)
    assert isinstance(open_sync_store(url), SQLiteStore)


def test_every_documented_scheme_is_in_the_table() -> None:
    assert set(STORE_SCHEMES) >= {"memory", "sqlite", "redis", "rediss", "postgresql", "postgres"}


def test_a_misspelt_scheme_suggests_the_right_one_and_lists_all() -> None:
    with pytest.raises(ConfigurationError) as info:
        open_store("postgressql://db/x")
    assert "Did you mean postgresql://" in str(info.value)
    assert "memory://" in str(info.value)


def test_a_value_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be a URL"):
        open_store("localhost:6379")


def test_a_password_never_appears_in_an_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        open_store("postgresql://user:s3cret@db/x?table=bad-name;drop")
    assert "s3cret" not in str(info.value)
    assert "***" in str(info.value)


def test_a_table_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="plain SQL identifier"):
        open_store("sqlite:////tmp/x.db?table=claims;drop table x")


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import trove_webhooks.stores.redis as redis_store

    monkeypatch.setattr(redis_store, "redis", None)
    with pytest.raises(ImportError, match=r"trove-sdk\[redis\]"):
        open_store("redis://localhost:6379/0")


def test_register_store_adds_a_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STORE_SCHEMES, "mem2", STORE_SCHEMES["memory"])
    register_store("mem2", MemoryStore, AsyncMemoryStore)
    assert isinstance(open_store("mem2://"), AsyncMemoryStore)
