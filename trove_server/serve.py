"""Running the app under uvicorn, in the foreground (the commands) or in a thread (tests).

``TroveUvicorn`` tells the app that shutdown began *before* uvicorn waits for open
connections, so event streams end and running commands are killed at once; Ctrl-C therefore
stops the server in about a second, with pending deliveries left queued for the next start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from trove_server.app import create_app
from trove_server.sandbox import Sandbox, SandboxUnavailable, probe_sandbox
from trove_server.settings import Settings
from trove_server.state import prepare_data_dir

__all__ = [
    "TroveUvicorn",
    "build_server",
    "configure_logging",
    "describe_isolation",
    "prepare",
    "serve_forever",
]

OnReady = Callable[[str], None]


class TroveUvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette, on_ready: OnReady | None) -> None:
        super().__init__(config)
        self.app = app
        self.on_ready = on_ready
        self.base_url = ""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or not getattr(self, "servers", None):
            return
        listener = self.servers[0].sockets[0]
        host, port = listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        if self.on_ready is not None:
            self.on_ready(self.base_url)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state = getattr(self.app.state, "trove", None)
        if state is not None:
            state.begin_shutdown()
        await super().shutdown(sockets=sockets)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger("trove_server")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Our middleware writes the access log (without query strings or headers).
    logging.getLogger("uvicorn.access").disabled = True


def prepare(settings: Settings) -> Sandbox:
    """Create the data directory and decide the isolation (``SandboxUnavailable`` if the
    sandbox is required and unusable)."""
    prepare_data_dir(settings)
    return probe_sandbox(settings)


def describe_isolation(sandbox: Sandbox) -> list[str]:
    """What the startup banner says about isolation (stderr)."""
    if sandbox.isolation == "bwrap":
        if sandbox.privileged:
            mode = f"as root: commands run as uid {sandbox.settings.sandbox_uid}"
        else:
            mode = "user namespace"
        network = sandbox.settings.exec_network
        return [f"isolation: bwrap ({mode}; network {network})"]
    return [
        "isolation: none — WARNING: commands run directly on this machine, unsandboxed,",
        f"           with your user's permissions ({sandbox.reason}).",
        "           Install bubblewrap (apt install bubblewrap) for namespace isolation,",
        "           or pass --require-sandbox to refuse to start without it.",
    ]


def build_server(
    settings: Settings,
    sandbox: Sandbox,
    *,
    on_ready: OnReady | None = None,
    loop: str = "auto",
    log_config: dict[str, Any] | None = None,
) -> TroveUvicorn:
    app = create_app(settings, sandbox=sandbox)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop=loop,
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=log_config,
        log_level=settings.log_level,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return TroveUvicorn(config, app, on_ready)


def write_ready_file(path: Path, base_url: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"base_url": base_url, "pid": os.getpid()}), encoding="utf-8")
    os.replace(tmp, path)


def serve_forever(
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    on_ready: OnReady | None = None,
    ready_file: Path | None = None,
) -> int:
    """Run in the foreground until Ctrl-C / SIGTERM; returns the exit status."""
    configure_logging(settings.log_level)
    if sandbox is None:
        try:
            sandbox = prepare(settings)
        except SandboxUnavailable as exc:
            print(f"trove server: {exc}", file=sys.stderr)
            return 1

    def ready(base_url: str) -> None:
        if ready_file is not None:
            write_ready_file(ready_file, base_url)
        if on_ready is not None:
            on_ready(base_url)

    server = build_server(settings, sandbox, on_ready=ready)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn already shut down cleanly
        server.run()
    return 0 if server.started else 1
