"""CLI fixtures: profiles pointing at the session's real ``trove_server``, and a runner.

``trove(...)`` invokes the root group through click's ``CliRunner`` (stdout and stderr kept
apart) with ``TROVE_HOME`` isolated by the shared ``trove_home`` fixture. The ``default``
profile holds the server's unscoped workspace key with the test's fresh namespace as its
default; ``admin`` holds the admin key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from tests.cli.runner import invoke
from trove_cli.config import Config, Profile

Trove = Callable[..., Result]


@pytest.fixture
def profiles(trove_home: str, trove_server: Any, namespace: str) -> Config:
    config = Config()
    config.save(
        Profile(
            name="default",
            api_key=trove_server.api_key,
            workspace_id=trove_server.workspace_id,
            base_url=trove_server.base_url,
            namespace=namespace,
        ),
        make_default=True,
    )
    config.save(
        Profile(
            name="admin",
            api_key=trove_server.admin_key,
            workspace_id=trove_server.workspace_id,
            base_url=trove_server.base_url,
        )
    )
    return config


@pytest.fixture
def trove(profiles: Config) -> Trove:
    """Run ``trove ARGS`` with the default profile (pass ``--profile admin`` first for admin)."""
    return invoke


@pytest.fixture
def admin(profiles: Config) -> Trove:
    """Run ``trove --profile admin ARGS``."""

    def run(*args: str, **kwargs: Any) -> Result:
        return invoke("--profile", "admin", *args, **kwargs)

    return run
