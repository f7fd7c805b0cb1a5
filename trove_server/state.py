"""The running server: its parts, their start and their orderly stop.

``ServerState`` is created by the app's lifespan and reachable from every route as
``request.app.state.trove``. Shutdown happens in two steps: ``begin_shutdown`` (called as
soon as the server stops accepting requests) ends event streams and kills running commands so
their requests finish at once; ``close`` (lifespan end) stops the delivery worker — deliveries
in flight stay pending for the next start — and closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from pathlib import Path

from trove_server import snapshots
from trove_server.clock import now_ms
from trove_server.db import Database
from trove_server.delivery import DeliveryWorker, fanout
from trove_server.eventlog import EventBus, EventLog
from trove_server.execution import ExecRunner
from trove_server.sandbox import Sandbox
from trove_server.settings import Settings
from trove_server.storage import NamespaceDir

__all__ = ["ServerState", "prepare_data_dir"]

log = logging.getLogger("trove_server")

_JANITOR_PERIOD_S = 3600.0


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory (0700) and clear temp files a crash left behind."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    for directory in (settings.namespaces_dir, settings.snapshots_dir, settings.run_dir):
        directory.mkdir(exist_ok=True)
    shutil.rmtree(settings.tmp_dir, ignore_errors=True)
    settings.tmp_dir.mkdir(mode=0o700)


class ServerState:
    def __init__(self, settings: Settings, sandbox: Sandbox) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.db = Database(settings.db_path)
        self.bus = EventBus()
        self.delivery = DeliveryWorker(settings, self.db)
        self.events = EventLog(self.db, self.bus, fanout=fanout, on_queued=self.delivery.wake)
        self.runner = ExecRunner(settings, sandbox)
        self.stopping = asyncio.Event()
        # Keys minted by a device-login approval, waiting for the CLI's next poll. Kept in
        # memory only: the database never holds a plaintext key.
        self.device_keys: dict[str, dict[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def isolation(self) -> str:
        return self.sandbox.isolation

    def namespace(self, workspace_id: str, namespace: str) -> NamespaceDir:
        return NamespaceDir(
            self.settings.namespaces_dir / workspace_id / namespace, self.sandbox.owner
        )

    def workspace_dir(self, workspace_id: str) -> Path:
        return self.settings.namespaces_dir / workspace_id

    async def start(self) -> None:
        self._tasks.append(asyncio.ensure_future(self.delivery.run()))
        self._tasks.append(asyncio.ensure_future(self._janitor()))

    async def _janitor(self) -> None:
        """Retention: expired snapshots, old events, stale device codes and sessions."""
        while not self.stopping.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("retention sweep failed; trying again later")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), _JANITOR_PERIOD_S)

    async def sweep(self) -> None:
        now = now_ms()
        await snapshots.expire(self, now - int(self.settings.snapshot_retention_days * 86_400_000))
        self.events.prune(now - int(self.settings.event_retention_days * 86_400_000))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM device_codes WHERE expires_ms < ?", (now - 86_400_000,))
            conn.execute("DELETE FROM sessions WHERE expires_ms < ?", (now,))
        # Keys minted for logins whose CLI never came back to collect them.
        for digest in list(self.device_keys):
            row = self.db.one("SELECT expires_ms FROM device_codes WHERE digest = ?", (digest,))
            if row is None or row["expires_ms"] < now:
                del self.device_keys[digest]

    def begin_shutdown(self) -> None:
        """Stop streams and commands now, so open requests can finish."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.bus.close()
        self.runner.kill_all()

    async def close(self) -> None:
        self.begin_shutdown()
        await self.delivery.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.db.close()
