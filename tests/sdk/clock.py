"""Make the SDK's drivers sleep instantly, without touching ``time``/``asyncio`` for anyone else.

The drivers call ``time.sleep`` and ``asyncio.sleep`` through their module's ``time`` and
``asyncio`` names; replacing those names (not the functions inside the real modules) keeps a
server thread running in the same process on the real clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest


class _Module:
    """Delegates to ``module`` except for ``sleep``."""

    def __init__(self, module: ModuleType, sleep: Callable[[float], Any]) -> None:
        self._module = module
        self.sleep = sleep

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def instant_sleeps(monkeypatch: pytest.MonkeyPatch, *modules: str) -> list[float]:
    """Patch the driver modules named; returns the list of requested sleeps."""
    requested: list[float] = []

    async def async_sleep(seconds: float) -> None:
        requested.append(seconds)

    for name in modules:
        monkeypatch.setattr(f"{name}.time", _Module(time, requested.append))
        monkeypatch.setattr(f"{name}.asyncio", _Module(asyncio, async_sleep))
    return requested
