"""What ``trove server`` / ``python -m trove_server`` and ``trove dev`` do around the server:
first credentials, the startup banner (stderr, with a fresh one-time dashboard link at every
start), then serving until Ctrl-C."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from trove_server.bootstrap import (
    Credentials,
    create_workspace,
    ensure_dev_workspace,
    mint_dashboard_link,
)
from trove_server.db import Database
from trove_server.sandbox import Sandbox, SandboxUnavailable
from trove_server.serve import configure_logging, describe_isolation, prepare, serve_forever
from trove_server.settings import Settings

__all__ = ["DevReady", "run_dev_command", "run_server_command"]

DevReady = Callable[[Credentials, str, bool], list[str]]


def _say(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def _start(settings: Settings) -> Sandbox | None:
    configure_logging(settings.log_level)
    try:
        sandbox = prepare(settings)
    except SandboxUnavailable as exc:
        _say(f"trove: cannot start: {exc}")
        return None
    _say(*describe_isolation(sandbox))
    return sandbox


def _key_lines(creds: Credentials) -> list[str]:
    return [
        "",
        "  Keys (shown once — store them now):",
        f"    workspace   {creds.workspace_id}",
        f"    admin key   {creds.admin_key}",
        f"    api key     {creds.api_key}",
    ]


def run_server_command(
    settings: Settings, *, bootstrap: bool = False, ready_file: Path | None = None
) -> int:
    sandbox = _start(settings)
    if sandbox is None:
        return 1
    db = Database(settings.db_path)
    try:
        existing = db.one("SELECT id FROM workspaces ORDER BY created_ms LIMIT 1")
        created: Credentials | None = None
        if bootstrap and existing is None:
            created = create_workspace(db, "default")
        # A fresh one-time sign-in link at every start, not only the first: the first one was
        # used (or lost with the terminal), and a browser session is what approves device logins.
        link_workspace = created.workspace_id if created is not None else None
        if existing is not None:
            link_workspace = str(existing["id"])
        link = mint_dashboard_link(db, link_workspace) if link_workspace is not None else None
    finally:
        db.close()
    if existing is None and created is None:
        _say(
            "no workspace yet: restart with --bootstrap to create one and print its keys"
            + ("" if settings.allow_signup else ", or with --allow-signup")
        )

    def ready(base_url: str) -> None:
        lines = [f"trove server listening on {base_url}"]
        if created is not None:
            lines += _key_lines(created)
        if link is not None:
            lines += ["", f"  dashboard (one-time link): {base_url}/dashboard?token={link}"]
        _say(*lines, "", "Ctrl-C to stop.")

    return serve_forever(settings, sandbox=sandbox, on_ready=ready, ready_file=ready_file)


def run_dev_command(settings: Settings, *, on_ready: DevReady | None = None) -> int:
    """``trove dev``: the dev workspace (created on first run, reused after), a fresh one-time
    dashboard link, and ``on_ready(credentials, base_url, created)`` for the CLI's own lines
    (profile saved, next commands)."""
    sandbox = _start(settings)
    if sandbox is None:
        return 1
    db = Database(settings.db_path)
    try:
        creds, created = ensure_dev_workspace(settings.data_dir, db)
        link = mint_dashboard_link(db, creds.workspace_id)
    finally:
        db.close()

    def ready(base_url: str) -> None:
        lines = [f"trove dev: local Trove at {base_url}  (data: {settings.data_dir})"]
        if created:
            lines += _key_lines(creds)
        else:
            lines.append(f"  reusing workspace {creds.workspace_id}")
        lines += [
            "",
            f"  dashboard / login approval: {base_url}/dashboard?token={link}",
        ]
        if on_ready is not None:
            lines += on_ready(creds, base_url, created)
        _say(*lines, "", "Ctrl-C to stop.")

    return serve_forever(settings, sandbox=sandbox, on_ready=ready)
