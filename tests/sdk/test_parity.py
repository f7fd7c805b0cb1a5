"""The sync and async twins expose the same public methods with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from trove_sdk import (
    AsyncTroveAdminClient,
    AsyncTroveAuth,
    AsyncTroveClient,
    TroveAdminClient,
    TroveAuth,
    TroveClient,
)

TWINS = [
    (TroveClient, AsyncTroveClient),
    (TroveAdminClient, AsyncTroveAdminClient),
    (TroveAuth, AsyncTroveAuth),
]
# The one documented difference: httpx's close()/aclose() naming.
SYNC_ONLY = {"close"}
ASYNC_ONLY = {"aclose"}
# Constructors that do no I/O stay plain (sync) classmethods on the async twin too.
NO_IO = {(AsyncTroveClient, "from_env")}


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=lambda c: c.__name__)
def test_twins_have_the_same_public_methods(sync_cls: type, async_cls: type) -> None:
    assert set(_public(sync_cls)) - SYNC_ONLY == set(_public(async_cls)) - ASYNC_ONLY


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=lambda c: c.__name__)
def test_twin_methods_take_the_same_parameters(sync_cls: type, async_cls: type) -> None:
    sync_methods, async_methods = _public(sync_cls), _public(async_cls)
    for name in set(sync_methods) - SYNC_ONLY:
        sync_params = [(p.name, p.kind, p.default) for p in sync_methods[name].parameters.values()]
        async_params = [
            (p.name, p.kind, p.default) for p in async_methods[name].parameters.values()
        ]
        assert sync_params == async_params, name


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=lambda c: c.__name__)
def test_async_methods_are_coroutines_or_async_iterators(sync_cls: type, async_cls: type) -> None:
    for name in set(_public(async_cls)) - ASYNC_ONLY:
        if (async_cls, name) in NO_IO:
            continue
        member = getattr(async_cls, name)
        if isinstance(inspect.getattr_static(async_cls, name), classmethod):
            member = member.__func__
        assert inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member), name
