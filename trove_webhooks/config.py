"""Settings for the deployable receiver, from the environment or ``trove webhooks serve``.

=========================  ==============================================================
``TROVE_WEBHOOK_SECRET``   signing secret; comma-separated during a rotation (required)
``TROVE_WEBHOOKS_ROUTER``  ``module:attribute`` of a ``WebhookRouter`` (default: log events)
``TROVE_WEBHOOKS_STORE``   idempotency store URL (default ``memory://``)
``TROVE_WEBHOOKS_INBOX``   inbox URL: queued mode
``TROVE_WEBHOOKS_PATH``    where deliveries are POSTed (default ``/trove/events``)
``TROVE_WEBHOOKS_LEASE``   seconds a claim guards a running handler (default 60)
``HOST`` / ``PORT``        listen address (default 127.0.0.1:8000)
``WORKERS``                server processes (default 1; more needs a shared store)
``INBOX_WORKERS``          in-process inbox worker tasks per process in queued mode (1)
``LOG_FORMAT``             ``text`` or ``json``
=========================  ==============================================================

Server processes started by uvicorn build their app with ``app_from_env()``, so the parent
passes its settings down through the environment (``to_env``).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trove_webhooks.errors import ConfigurationError
from trove_webhooks.routing import WebhookRouter

__all__ = ["ReceiverSettings", "app_from_env", "check_storage", "load_router", "serve"]

ENV_SECRET = "TROVE_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
ENV_ROUTER = "TROVE_WEBHOOKS_ROUTER"
ENV_STORE = "TROVE_WEBHOOKS_STORE"
ENV_INBOX = "TROVE_WEBHOOKS_INBOX"
ENV_PATH = "TROVE_WEBHOOKS_PATH"
ENV_TOLERANCE = "TROVE_WEBHOOKS_TOLERANCE"
ENV_LEASE = "TROVE_WEBHOOKS_LEASE"
SHUTDOWN_GRACE_SECONDS = 30
# Where `trove webhooks listen` and `trigger` deliver by default (CONTRACT §5.4), so the three
# commands work together without flags; the adapters' own default path is the same.
DEFAULT_PATH = "/trove/events"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class ReceiverSettings:
    secrets: tuple[str, ...] = field(repr=False)
    router: str | None = None
    store: str | None = None
    inbox: str | None = None
    path: str = DEFAULT_PATH
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    inbox_workers: int = 1
    tolerance_seconds: int = 300
    lease_seconds: int = 60
    log_format: str = "text"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReceiverSettings:
        env = os.environ if environ is None else environ
        secrets = tuple(s.strip() for s in env.get(ENV_SECRET, "").split(",") if s.strip())
        return cls(
            secrets=secrets,
            router=env.get(ENV_ROUTER) or None,
            store=env.get(ENV_STORE) or None,
            inbox=env.get(ENV_INBOX) or None,
            path=env.get(ENV_PATH) or DEFAULT_PATH,
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000),
            workers=_int(env, "WORKERS", 1),
            inbox_workers=_int(env, "INBOX_WORKERS", 1),
            tolerance_seconds=_int(env, ENV_TOLERANCE, 300),
            lease_seconds=_int(env, ENV_LEASE, 60),
            log_format=(env.get("LOG_FORMAT") or "text").lower(),
        )

    def to_env(self) -> dict[str, str]:
        env = {
            ENV_SECRET: ",".join(self.secrets),
            ENV_PATH: self.path,
            ENV_TOLERANCE: str(self.tolerance_seconds),
            ENV_LEASE: str(self.lease_seconds),
            "INBOX_WORKERS": str(self.inbox_workers),
            "LOG_FORMAT": self.log_format,
        }
        for name, value in (
            (ENV_ROUTER, self.router),
            (ENV_STORE, self.store),
            (ENV_INBOX, self.inbox),
        ):
            if value:
                env[name] = value
        return env

    def validate(self) -> None:
        """Refuse settings that would serve but not hold their promises."""
        if not self.secrets:
            raise ConfigurationError(
                f"no webhook secret: set {ENV_SECRET} (comma-separated during a rotation) "
                "or pass --secret"
            )
        if self.log_format not in ("text", "json"):
            raise ConfigurationError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.workers < 1:
            raise ConfigurationError("WORKERS must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(f"PORT must be between 0 and 65535, got {self.port}")
        if self.lease_seconds < 1:
            raise ConfigurationError(f"{ENV_LEASE} must be at least 1 second")
        in_memory = self.inbox is None and (self.store or "memory://").startswith("memory:")
        if self.workers > 1 and in_memory:
            raise ConfigurationError(
                f"{self.workers} worker processes cannot share the in-memory store, so a "
                "duplicate reaching another process would run its handlers again. Use "
                "--store sqlite:///path/hooks.db (one host) or --store redis://host:6379/0 / "
                "postgresql://... (many hosts)"
            )
        check_storage(self.store, self.inbox)


def check_storage(store: str | None, inbox: str | None) -> None:
    """Refuse a store or inbox URL no server process could open (an unknown scheme, a bad
    option), before any is started: with several, each would fail alike and be restarted."""
    from trove_webhooks.inbox import INBOX_SCHEMES
    from trove_webhooks.stores import open_store, resolve_scheme

    try:
        if inbox:
            resolve_scheme(inbox, {s: (t, t) for s, t in INBOX_SCHEMES.items()}, "inbox")
        elif store:
            open_store(store)  # parses the URL and its options; connects to nothing yet
    except ImportError as exc:  # the driver for that scheme: the message names the extra
        raise ConfigurationError(str(exc)) from None


def load_router(spec: str) -> WebhookRouter:
    """Import ``module:attribute`` (attribute defaults to ``router``) from the working dir."""
    module_name, _, attr = spec.partition(":")
    attr = attr or "router"
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"cannot import handler module {module_name!r}: {exc}") from exc
    target: Any = getattr(module, attr, None)
    if callable(target) and not isinstance(target, WebhookRouter):
        target = target()  # a factory function
    if not isinstance(target, WebhookRouter):
        raise ConfigurationError(
            f"{module_name}:{attr} must be a WebhookRouter (or a function returning one), "
            f"not {type(target).__name__}"
        )
    return target


def app_from_env() -> Any:
    """The app for one server process, built from the environment (uvicorn's factory)."""
    from trove_webhooks.app import create_app

    settings = ReceiverSettings.from_env()
    settings.validate()
    router = load_router(settings.router) if settings.router else None
    return create_app(
        router,
        secret=list(settings.secrets),
        store=settings.store,
        inbox=settings.inbox,
        workers=settings.inbox_workers,
        path=settings.path,
        tolerance_seconds=settings.tolerance_seconds,
        lease_seconds=settings.lease_seconds,
    )


def serve(settings: ReceiverSettings) -> None:
    """Run uvicorn until SIGTERM/SIGINT; in-flight requests get time to finish."""
    import uvicorn

    from trove_webhooks.logs import logging_config

    settings.validate()
    if settings.router:
        load_router(settings.router)  # fail here, once, rather than in every worker process
    os.environ.update(settings.to_env())
    uvicorn.run(
        "trove_webhooks.config:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=logging_config(settings.log_format),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        server_header=False,
    )
