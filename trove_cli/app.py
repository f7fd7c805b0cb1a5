"""``App``: what every command shares, handed over with ``@click.pass_obj``.

It resolves the profile (CONTRACT §5.2) and the namespace, builds SDK clients from them, and
holds the two output streams. ``trove_sdk`` is imported only when a client is first built, so
commands that never reach the network (``--help``, ``logout``) never load httpx.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trove_cli.config import ENV_BASE_URL, ENV_NAMESPACE, Config, Profile, base_url_problem
from trove_cli.errors import CLIError
from trove_cli.output import Output

if TYPE_CHECKING:
    import httpx

    from trove_sdk import AsyncTroveAdminClient, TroveAdminClient, TroveClient

__all__ = ["DEFAULT_TIMEOUT", "App"]

DEFAULT_TIMEOUT = 30.0
NO_NAMESPACE_HINT = (
    "no namespace set: pass -n/--namespace, set TROVE_NAMESPACE, "
    "or save one with `trove login --namespace NS`"
)


@dataclass
class App:
    profile_name: str | None = None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)
    output: Output = field(default_factory=Output, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config()
        return self._config

    def profile(self) -> Profile:
        """The active profile; raises ``ProfileNotFound`` (exit 3) when none resolves."""
        profile = self.config.resolve(self.profile_name)
        problem = base_url_problem(profile.base_url)
        if problem is not None:
            # Caught here, the mistake is named with its source; left to httpx it becomes a
            # "could not reach /8787/v1/me" network error (exit 4) that names neither.
            where = (
                ENV_BASE_URL
                if profile.source == "env"
                else f"the base URL of profile '{profile.name}'"
            )
            raise CLIError(f"{where} is unusable: {problem}")
        return profile

    def namespace(self, override: str | None, profile: Profile | None = None) -> str:
        """``-n`` > ``TROVE_NAMESPACE`` > the profile's namespace; none is an error."""
        found = self.namespace_or_none(override, profile)
        if found is None:
            raise CLIError(NO_NAMESPACE_HINT)
        return found

    def namespace_or_none(self, override: str | None, profile: Profile | None = None) -> str | None:
        """Like ``namespace`` for commands where "all namespaces" is a valid answer."""
        if override:
            return override
        env = os.environ.get(ENV_NAMESPACE)
        if env:
            return env
        return (profile or self.profile()).namespace

    def client(
        self, namespace: str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> TroveClient:
        """A runtime client for the resolved namespace."""
        from trove_sdk import TroveClient

        profile = self.profile()
        return TroveClient(
            profile.api_key,
            self.namespace(namespace, profile),
            base_url=profile.base_url,
            timeout=timeout,
            workspace_id=profile.workspace_id or None,
        )

    def admin(self, *, timeout: float = DEFAULT_TIMEOUT) -> TroveAdminClient:
        """A management client (keys, webhooks, namespaces, events) for the profile."""
        from trove_sdk import TroveAdminClient

        profile = self.profile()
        return TroveAdminClient(
            profile.api_key,
            _workspace(profile),
            base_url=profile.base_url,
            timeout=timeout,
        )

    def async_admin(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> AsyncTroveAdminClient:
        from trove_sdk import AsyncTroveAdminClient

        profile = self.profile()
        return AsyncTroveAdminClient(
            profile.api_key,
            _workspace(profile),
            base_url=profile.base_url,
            timeout=timeout,
            http_client=http_client,
        )


def _workspace(profile: Profile) -> str:
    if not profile.workspace_id.startswith("ws-"):
        raise CLIError(
            f"profile '{profile.name}' has no valid workspace id ({profile.workspace_id!r}); "
            "run `trove login` again"
        )
    return profile.workspace_id
