"""``trove doctor``: what the CLI sees, in one read-only report (CONTRACT §5.7).

It never stops at the first problem: every check runs and prints ✓, ⚠ or ✗. It exits 1 only
when no profile resolves (nothing else could be checked).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import click

from trove_cli.config import ENV_PROFILE_NAME, ProfileNotFound, base_url_problem
from trove_cli.humanize import mask_secret
from trove_cli.main import version
from trove_cli.options import json_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_cli.config import Profile

__all__ = ["doctor_command"]

DOCTOR_ME_TIMEOUT = 8.0
_ENV_VARS = ("TROVE_API_KEY", "TROVE_WORKSPACE_ID", "TROVE_NAMESPACE", "TROVE_BASE_URL")
Status = Literal["info", "ok", "warn", "bad"]
_MARKS = {"ok": ("✓ ", None), "warn": ("⚠ ", "yellow"), "bad": ("✗ ", "red"), "info": ("", None)}


@dataclass
class Section:
    title: str
    items: list[tuple[Status, str]] = field(default_factory=list)

    def add(self, status: Status, text: str) -> None:
        self.items.append((status, text))


def _cli_section() -> Section:
    section = Section("CLI")
    section.add("info", f"version           : {version()}")
    section.add("info", f"python            : {sys.version.split()[0]} ({sys.executable})")
    section.add("info", f"trove on PATH     : {shutil.which('trove') or '(not found)'}")
    return section


def _config_section(app: App) -> Section:
    config = app.config
    section = Section("Config")
    section.add("info", f"path              : {config.path}")
    if not config.exists:
        section.add("bad", "no config file — run `trove login` (or `trove dev`)")
    else:
        section.add("ok", "config file present")
        if os.name == "posix":
            mode = config.path.stat().st_mode & 0o777
            if mode & 0o077:
                section.add("warn", f"file mode is {oct(mode)}; it holds keys: chmod 600")
            else:
                section.add("ok", f"file mode is {oct(mode)}")
        else:
            section.add("warn", "Windows: the file's ACL is not checked (it holds your keys)")
    names = config.profile_names
    section.add("info", f"saved profiles    : {', '.join(names) if names else '(none)'}")
    if names:
        section.add("info", f"default profile   : {config.default_profile}")
    return section


def _env_section() -> Section:
    section = Section("Environment")
    for name in _ENV_VARS:
        value = os.environ.get(name)
        if value is not None:
            shown = mask_secret(value, short=12) if name == "TROVE_API_KEY" else value
            section.add("info", f"{name:<18}: {shown}")
    if not section.items:
        section.add("info", "(no TROVE_* variables set)")
    return section


def _profile_section(app: App, profile: Profile) -> Section:
    section = Section("Active profile")
    marker = "  (from --profile)" if app.profile_name else ""
    source = "environment" if profile.name == ENV_PROFILE_NAME else profile.name
    section.add("info", f"source            : {source}{marker}")
    section.add("info", f"workspace         : {profile.workspace_id}")
    section.add("info", f"api key           : {mask_secret(profile.api_key, short=12)}")
    section.add("info", f"base url          : {profile.base_url}")
    section.add("info", f"default namespace : {profile.namespace or '-'}")
    return section


def _live_section(profile: Profile) -> Section:
    from trove_cli.commands.auth import fetch_identity
    from trove_sdk import TroveAuthError, TroveError

    section = Section("Live check")
    problem = base_url_problem(profile.base_url)
    if problem is not None:
        section.add("bad", f"base url unusable: {problem}")
        return section
    try:
        me = fetch_identity(profile.api_key, profile.base_url, DOCTOR_ME_TIMEOUT)
    except TroveAuthError as exc:
        section.add(
            "bad", f"auth rejected ({exc.status_code}) — key revoked or from another server"
        )
        return section
    except TroveError as exc:
        label = f"HTTP {exc.status_code}: " if exc.status_code else "network error: "
        section.add("bad", label + str(exc)[:200])
        return section
    if me is None:
        section.add("warn", "/v1/me answered 404 — the server is older than 0.3.0")
        return section
    section.add("ok", f"/v1/me OK — scope={me.scope}, key_id={me.key_id or '-'}")
    if me.workspace_id != profile.workspace_id:
        section.add(
            "warn",
            f"the key belongs to {me.workspace_id}, not the profile's {profile.workspace_id}",
        )
    if me.namespace:
        section.add("ok", f"key is locked to namespace={me.namespace}")
        if profile.namespace and profile.namespace != me.namespace:
            section.add(
                "warn",
                f"profile default namespace ({profile.namespace}) differs from the key lock "
                f"({me.namespace}); the key wins",
            )
    if me.isolation is not None:
        if me.isolation == "none":
            section.add("warn", "isolation: none — the server runs commands without a sandbox")
        else:
            section.add("ok", f"isolation: {me.isolation}")
    caps = ", ".join(me.capabilities) if me.capabilities else "(none reported)"
    section.add("info", f"capabilities      : {caps}")
    return section


@click.command("doctor")
@json_option("Print the report as JSON.")
@click.pass_obj
def doctor_command(app: App, as_json: bool) -> None:
    """Show config, environment and a live check of the key. Read-only."""
    sections = [_cli_section(), _config_section(app), _env_section()]
    profile: Profile | None = None
    try:
        # Not app.profile(): that refuses a broken base URL, which is for the live check to
        # report among everything else.
        profile = app.config.resolve(app.profile_name)
    except ProfileNotFound as exc:
        failed = Section("Active profile")
        failed.add("bad", str(exc))
        sections.append(failed)
    if profile is not None:
        sections += [_profile_section(app, profile), _live_section(profile)]
    _render(app, sections, as_json)
    if profile is None:
        raise click.exceptions.Exit(1)


def _render(app: App, sections: list[Section], as_json: bool) -> None:
    out = app.output
    if as_json:
        out.json(
            {
                "sections": [
                    {
                        "title": s.title,
                        "items": [{"status": st, "text": text} for st, text in s.items],
                    }
                    for s in sections
                ],
                "ok": not any(st == "bad" for s in sections for st, _ in s.items),
            }
        )
        return
    for index, section in enumerate(sections):
        if index:
            out.out.line()
        out.out.line(section.title, bold=True)
        for status, text in section.items:
            mark, colour = _MARKS[status]
            out.out.line(f"  {mark}{text}", fg=colour)
