"""``App``: what every command shares, handed over with ``@click.pass_obj``."""

from __future__ import annotations

from dataclasses import dataclass, field

from trove_cli.config import Config, Profile


@dataclass
class App:
    profile_name: str | None = None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config()
        return self._config

    def profile(self) -> Profile:
        """The active profile; raises ``ProfileNotFound`` when none resolves."""
        return self.config.resolve(self.profile_name)
