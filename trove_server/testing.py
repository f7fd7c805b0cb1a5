"""The real server for tests: in a thread (``run_server``) or a child process (``spawn_server``).

Both bind ``127.0.0.1`` on a free port, bootstrap a workspace with an admin key and an
unscoped workspace key, and hand back a ``ServerHandle``. Settings are keyword arguments
(``Settings`` field names), for example::

    with run_server(tmp_path, retry_schedule=(0.05, 0.1), sse_keepalive=0.5,
                    sandbox="none") as server:
        client = server.client("alice")

``spawn_server`` runs ``python -m trove_server`` so a test can ``kill -9`` it and start it
again on the same data directory (``handle.restart()``): credentials are kept in the data
directory's ``dev.json``, so the restarted server has the same keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trove_sdk import KeyCreated, TroveAdminClient, TroveClient
from trove_server.bootstrap import (
    Credentials,
    create_workspace,
    ensure_dev_workspace,
    mint_dashboard_link,
)
from trove_server.db import Database
from trove_server.settings import Settings

__all__ = ["ServerHandle", "SpawnedServer", "run_server", "spawn_server"]

_START_TIMEOUT_S = 60.0


@dataclass
class ServerHandle:
    """A running server and the credentials of its first workspace."""

    base_url: str
    workspace_id: str
    admin_key: str
    api_key: str
    settings: Settings
    isolation: str = "none"
    _clients: list[Any] = field(default_factory=list, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def client(self, namespace: str, *, api_key: str | None = None, **kwargs: Any) -> TroveClient:
        """A ``TroveClient`` for ``namespace`` (the unscoped workspace key by default)."""
        return TroveClient(
            api_key or self.api_key,
            namespace,
            base_url=self.base_url,
            workspace_id=self.workspace_id,
            **kwargs,
        )

    def admin(self, **kwargs: Any) -> TroveAdminClient:
        return TroveAdminClient(self.admin_key, self.workspace_id, base_url=self.base_url, **kwargs)

    def create_key(
        self, name: str = "test", *, namespace: str | None = None, admin: bool = False
    ) -> KeyCreated:
        """Mint a key through the admin API (so ``key.created`` is emitted as usual)."""
        with self.admin() as admin_client:
            return admin_client.create_key(name, namespace=namespace, admin=admin)

    def create_workspace(self, name: str = "test") -> Credentials:
        """A second, independent workspace (written straight to the database)."""
        db = Database(self.settings.db_path)
        try:
            return create_workspace(db, name)
        finally:
            db.close()

    def dashboard_url(self, workspace_id: str | None = None) -> str:
        """A one-time link that signs a browser in as the workspace's owner."""
        db = Database(self.settings.db_path)
        try:
            token = mint_dashboard_link(db, workspace_id or self.workspace_id)
        finally:
            db.close()
        return f"{self.base_url}/dashboard?token={token}"


def _settings(data_dir: str | os.PathLike[str], overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "log_level": "warning"}
    values.update(overrides)
    return Settings(data_dir=Path(data_dir), **values)


def _credentials(settings: Settings) -> Credentials:
    """The data directory's workspace (created on first use, reused on restart)."""
    db = Database(settings.db_path)
    try:
        creds, _ = ensure_dev_workspace(settings.data_dir, db)
    finally:
        db.close()
    return creds


@contextlib.contextmanager
def run_server(data_dir: str | os.PathLike[str], **settings: Any) -> Iterator[ServerHandle]:
    """The real app under uvicorn in a background thread, on a free 127.0.0.1 port."""
    from trove_server.serve import build_server, prepare

    config = _settings(data_dir, settings)
    sandbox = prepare(config)
    creds = _credentials(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = build_server(config, sandbox)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="trove-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    # base_url is set just after uvicorn marks itself started: wait for it, not for started.
    while not server.base_url:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the Trove test server did not start (see the log above)")
        time.sleep(0.01)
    try:
        yield ServerHandle(
            base_url=server.base_url,
            workspace_id=creds.workspace_id,
            admin_key=creds.admin_key,
            api_key=creds.api_key,
            settings=config,
            isolation=sandbox.isolation,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class SpawnedServer(ServerHandle):
    """A server in a child process: ``kill()`` (SIGKILL), ``stop()`` (SIGINT), ``restart()``."""

    process: subprocess.Popen[bytes]
    log_path: Path
    _overrides: dict[str, Any]
    _port: int

    def _launch(self) -> None:
        ready = Path(tempfile.mkdtemp(prefix="trove-ready-")) / "ready.json"
        config_file = ready.with_name("settings.json")
        overrides = {
            k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v)
            for k, v in self._overrides.items()
        }
        config_file.write_text(json.dumps(overrides), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_SERVER_")}
        self.log_path = ready.with_name("server.log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trove_server",
                    "--data-dir",
                    str(self.settings.data_dir),
                    "--port",
                    str(self._port),
                    "--config",
                    str(config_file),
                    "--ready-file",
                    str(ready),
                    "--log-level",
                    self.settings.log_level,
                ],
                stdout=log,
                stderr=log,
                env=env,
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    "the Trove server process did not start:\n"
                    + self.log_path.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.02)
        info = json.loads(ready.read_text(encoding="utf-8"))
        self.base_url = info["base_url"]
        self._port = int(self.base_url.rsplit(":", 1)[1])
        with self.client("probe") as client:
            self.isolation = client.me().isolation or "none"

    def kill(self) -> None:
        """``kill -9``: no shutdown at all."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """Ctrl-C: a clean shutdown; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def restart(self) -> None:
        """Start again on the same data directory and port, with the same keys."""
        if self.process.poll() is None:
            self.stop()
        self._launch()


@contextlib.contextmanager
def spawn_server(data_dir: str | os.PathLike[str], **settings: Any) -> Iterator[SpawnedServer]:
    """``python -m trove_server`` in a child process on a free port."""
    config = _settings(data_dir, settings)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    creds = _credentials(config)
    handle = SpawnedServer(
        base_url="",
        workspace_id=creds.workspace_id,
        admin_key=creds.admin_key,
        api_key=creds.api_key,
        settings=config,
    )
    handle._overrides = {k: v for k, v in settings.items() if k not in ("data_dir", "port")}
    handle._port = 0
    handle._launch()
    try:
        yield handle
    finally:
        handle.kill()
