"""``trove mcp install | uninstall | status | serve``: wire the workspace into MCP clients.

The file edits live in ``trove_mcp.install`` (testable without click); this module resolves
the profile and namespace, mints or revokes keys when asked, and reports one line per client:
``✓``/``-`` lines on stdout, ``✗`` lines and hints on stderr. A failed client never stops the
others; the exit code is 1 when any failed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from trove_cli.errors import CLIError
from trove_cli.options import json_option, namespace_option
from trove_mcp.install.clients import CLIENTS

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_cli.config import Profile
    from trove_mcp.install import Outcome
    from trove_sdk import KeyCreated

__all__ = ["mcp_group"]

MISSING_EXTRA = (
    "the MCP server needs the `mcp` package in this Python ({python}): pip install 'trove-sdk[mcp]'"
)
VERIFY_TIMEOUT = 10.0

client_option = click.option(
    "--client",
    "clients",
    multiple=True,
    type=click.Choice(list(CLIENTS), case_sensitive=False),
    help="Client to configure (repeatable). Default: every client found on this machine "
    "(claude-code, being per-project, only when named).",
)


def _server_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A blank name would be written as the key ``""``, which no client shows usefully."""
    if not value.strip() or value != value.strip() or not value.isprintable():
        raise click.BadParameter(
            f"{value!r} is not a usable server name: give a visible name without surrounding "
            "spaces, e.g. trove or trove-work"
        )
    return value


name_option = click.option(
    "--name",
    "server_name",
    default="trove",
    show_default=True,
    callback=_server_name,
    help="The server's name in the client's config.",
)
profile_option = click.option(
    "--profile",
    "profile_name",
    default=None,
    metavar="NAME",
    help="Use this saved profile (overrides trove --profile).",
)


def restart_hint() -> str:
    """Clients read their MCP config at start-up only; closing a window rarely quits them."""
    if sys.platform == "darwin":
        return "fully quit each client (Cmd-Q) and reopen it to load the change"
    if sys.platform == "win32":
        return "fully quit each client (tray icon → Quit) and reopen it to load the change"
    return "fully quit each client and reopen it to load the change"


@click.group("mcp")
def mcp_group() -> None:
    """Give Claude Desktop, Cursor, Claude Code, VS Code and Windsurf the workspace (MCP)."""


@mcp_group.command("install")
@client_option
@namespace_option("Namespace the agent works in (default: TROVE_NAMESPACE, then the profile's).")
@name_option
@profile_option
@click.option(
    "--mint-key",
    is_flag=True,
    help="Mint a key locked to the namespace for each client (needs an admin profile) "
    "instead of copying the profile's key.",
)
@json_option("Print the result per client as JSON (the API key is never in it).")
@click.pass_obj
def install_command(
    app: App,
    clients: tuple[str, ...],
    namespace: str | None,
    server_name: str,
    profile_name: str | None,
    mint_key: bool,
    as_json: bool,
) -> None:
    """Add the Trove server to MCP clients' configs.

    \b
    Examples:
      trove mcp install                               # every client found here
      trove mcp install --client claude-desktop -n alice
      trove mcp install --client claude-code          # writes ./.mcp.json
      trove mcp install --client cursor --mint-key    # a key just for Cursor
    """
    import importlib.util

    from trove_mcp.install import Host, build_entry, detect, install_client, minted_key_id
    from trove_mcp.settings import API_KEY_PATTERN, BAD_API_KEY, NAMESPACE_PATTERN

    if importlib.util.find_spec("mcp") is None:
        raise CLIError(MISSING_EXTRA.format(python=sys.executable))
    if profile_name:
        app.profile_name = profile_name
    profile = app.profile()
    if not API_KEY_PATTERN.fullmatch(profile.api_key):
        raise CLIError(
            f"profile '{profile.name}' holds an API key that {BAD_API_KEY}; run `trove login` again"
        )
    ns = app.namespace(namespace, profile)
    if not NAMESPACE_PATTERN.fullmatch(ns):
        raise CLIError(f"invalid namespace {ns!r}: use 1-64 letters, digits, '.', '_' or '-'")
    host = Host.current()
    targets = [c.lower() for c in clients] or detect(host)
    if not targets:
        raise CLIError(
            f"no MCP client found on this machine; name one with --client ({', '.join(CLIENTS)})"
        )
    if not mint_key:
        _check_key_fits(app, profile, ns)

    out = app.output
    failed = wrote = False
    rows = []
    for key in dict.fromkeys(targets):
        minted = _mint(app, key, ns) if mint_key else None
        entry = build_entry(
            minted.api_key if minted else profile.api_key,
            ns,
            base_url=profile.base_url,
            key_id=minted.key_id if minted else None,
        )
        outcome = install_client(key, entry, name=server_name, host=host)
        if not outcome.ok and minted is not None:
            _revoke_quietly(app, minted.key_id)
        failed |= _report(app, outcome, f"{outcome.message} → {outcome.path}", quiet=as_json)
        rows.append(outcome.to_json())
        wrote |= outcome.changed
        if outcome.ok and minted is not None:
            out.note(f"    key {minted.key_id} minted for {outcome.label}, locked to {ns}")
        replaced_key = minted_key_id(outcome.replaced)
        if outcome.changed and replaced_key and replaced_key != outcome.minted_key_id:
            # That key was minted for this client alone, and nothing uses it any more.
            _revoke_quietly(app, replaced_key, done=f"    revoked {replaced_key}, replaced")
        if outcome.changed and CLIENTS[key].project:
            out.warn(
                f"    {outcome.path.name} now holds an API key: keep it out of version "
                "control (.gitignore), or use --mint-key for a key you can revoke alone"
            )
    if as_json:
        out.json(
            {"server_name": server_name, "profile": profile.name, "namespace": ns, "clients": rows}
        )
    out.note(f"profile={profile.name}  namespace={ns}  workspace={profile.workspace_id or '-'}")
    if wrote:
        out.warn(restart_hint())
    if failed:
        raise click.exceptions.Exit(1)


@mcp_group.command("uninstall")
@client_option
@name_option
@click.option(
    "--revoke-key/--keep-key",
    "revoke",
    default=None,
    help="Revoke keys that `install --mint-key` minted for these clients "
    "(default: ask on a terminal, keep otherwise).",
)
@json_option("Print the result per client as JSON.")
@click.pass_obj
def uninstall_command(
    app: App, clients: tuple[str, ...], server_name: str, revoke: bool | None, as_json: bool
) -> None:
    """Remove the Trove server from MCP clients' configs (other servers stay)."""
    from trove_mcp.install import Host, status, uninstall_client

    host = Host.current()
    if clients:
        targets = [c.lower() for c in clients]
    else:
        targets = [row.client for row in status(name=server_name, host=host) if row.configured]
        if not targets:
            if as_json:
                app.output.json({"server_name": server_name, "clients": []})
            app.output.info(f"no client has a '{server_name}' server configured")
            return
    failed = False
    rows: list[dict[str, Any]] = []
    minted: list[tuple[dict[str, Any], str, str]] = []
    for key in dict.fromkeys(targets):
        outcome = uninstall_client(key, name=server_name, host=host)
        failed |= _report(app, outcome, f"{outcome.message} from {outcome.path}", quiet=as_json)
        row = {**outcome.to_json(), "key_revoked": False}
        rows.append(row)
        if outcome.minted_key_id:
            minted.append((row, outcome.label, outcome.minted_key_id))
    for row, label, key_id in minted:
        row["key_revoked"] = _offer_revoke(app, label, key_id, revoke, quiet=as_json)
    if as_json:
        app.output.json({"server_name": server_name, "clients": rows})
    if failed:
        raise click.exceptions.Exit(1)


@mcp_group.command("status")
@name_option
@json_option()
@click.pass_obj
def status_command(app: App, server_name: str, as_json: bool) -> None:
    """Show which clients have the Trove server, with which namespace."""
    from trove_mcp.install import Host, status

    rows = status(name=server_name, host=Host.current())
    out = app.output
    if as_json:
        out.json(
            {
                "server_name": server_name,
                "python": sys.executable,
                "clients": [row.to_json() for row in rows],
            }
        )
        return
    for row in rows:
        if row.error:
            out.error(f"✗ {row.label:<22} {row.error}")
        elif row.configured:
            extras = [f"namespace={row.namespace or '?'}", f"server={row.base_url}"]
            if row.key_id:
                extras.append(f"key={row.key_id} (minted)")
            out.result(f"✓ {row.label:<22} " + "  ".join(extras))
            out.out.line(f"    {row.path}", dim=True)
            if row.command_exists is False:
                out.warn(f"    its interpreter {row.command} is gone: run `trove mcp install`")
        elif row.config_exists or row.path.parent.is_dir():
            out.out.line(f"- {row.label:<22} not configured  ({row.path})", fg="bright_black")
        else:
            out.out.line(f"  {row.label:<22} not found", fg="bright_black")


@mcp_group.command("serve")
@namespace_option("Namespace to serve (default: TROVE_NAMESPACE, then the profile's).")
@click.option("--http", is_flag=True, help="Serve streamable HTTP at http://HOST:PORT/mcp.")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP bind address.")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="HTTP port."
)
@click.pass_obj
def serve_command(app: App, namespace: str | None, http: bool, host: str, port: int) -> None:
    """Run the MCP server here (stdio by default), as a client would start it.

    Uses TROVE_API_KEY and TROVE_NAMESPACE when set, else the active profile.
    """
    import os

    try:
        from trove_mcp.__main__ import run
    except ImportError as exc:  # pragma: no cover — trove_mcp itself ships with the CLI
        raise CLIError(MISSING_EXTRA.format(python=sys.executable)) from exc
    profile = app.profile_name
    if profile is None and not os.environ.get("TROVE_API_KEY"):
        profile = app.config.default_profile
    run(profile=profile, namespace=namespace, http=http, host=host, port=port)


def _report(app: App, outcome: Outcome, done: str, *, quiet: bool = False) -> bool:
    """Print one client's line (on stderr only, when ``quiet``: --json prints the data);
    True when it failed."""
    if not outcome.ok:
        app.output.error(f"✗ {outcome.label}: {outcome.message}")
        return True
    if not quiet and outcome.changed:
        app.output.result(f"✓ {outcome.label}: {done}")
    elif not quiet:
        app.output.out.line(f"- {outcome.label}: {done}", fg="bright_black")
    if outcome.backup is not None:
        app.output.note(f"    previous file kept as {outcome.backup}")
    return False


def _check_key_fits(app: App, profile: Profile, namespace: str) -> None:
    """Refuse a key that could not work for the agent (an admin key, or one locked to another
    namespace); a server that cannot be reached is only a warning."""
    from trove_sdk import (
        TroveAuthError,
        TroveClient,
        TroveConnectionError,
        TroveError,
        TroveTimeoutError,
    )

    try:
        # A probe: no retries, so an unreachable server costs one refused connection.
        with TroveClient(
            profile.api_key,
            namespace,
            base_url=profile.base_url,
            timeout=VERIFY_TIMEOUT,
            max_retries=0,
        ) as client:
            identity = client.me()
    except (TroveConnectionError, TroveTimeoutError) as exc:
        app.output.warn(f"could not check the key against {profile.base_url} ({exc}); writing it")
        return
    except TroveAuthError:
        raise
    except TroveError as exc:
        app.output.warn(f"could not check the key ({exc}); writing it")
        return
    if identity.scope == "admin":
        raise CLIError(
            f"profile '{profile.name}' holds an admin key, which cannot use files or exec; "
            "re-run with --mint-key to give each client its own key locked to the namespace"
        )
    if identity.namespace and identity.namespace != namespace:
        raise CLIError(
            f"the profile's key is locked to namespace '{identity.namespace}', not "
            f"'{namespace}': pass -n {identity.namespace} or use another key"
        )


def _mint(app: App, client: str, namespace: str) -> KeyCreated:
    from trove_sdk import TroveAuthError

    try:
        with app.admin() as admin:
            return admin.create_key(f"mcp-{client}-{namespace}", namespace=namespace)
    except TroveAuthError as exc:
        raise CLIError(
            f"--mint-key needs a profile with an admin key (the server said: {exc})",
            exit_code=2,
        ) from exc


def _revoke_quietly(app: App, key_id: str, *, done: str | None = None) -> None:
    """Revoke a minted key nothing uses any more (its config write failed, or a reinstall
    replaced it): no key outlives the client it was minted for."""
    from trove_sdk import TroveError, TroveNotFoundError

    try:
        with app.admin() as admin:
            admin.revoke_key(key_id)
    except TroveNotFoundError:
        return
    except TroveError as exc:
        app.output.warn(
            f"    could not revoke the unused key {key_id} ({exc}); "
            f"run `trove keys revoke {key_id}` with an admin profile"
        )
        return
    if done:
        app.output.note(done)


def _offer_revoke(
    app: App, label: str, key_id: str, revoke: bool | None, *, quiet: bool = False
) -> bool:
    """Revoke a key minted for an uninstalled client if asked (or the user agrees); True when
    the key is revoked now, or already was."""
    from trove_sdk import TroveNotFoundError

    if revoke is None:
        if not sys.stdin.isatty():
            app.output.note(
                f"    {label} used key {key_id}, minted for it; revoke it with "
                f"`trove keys revoke {key_id}` (or pass --revoke-key)"
            )
            return False
        revoke = click.confirm(f"revoke key {key_id}, minted for {label}?", default=True, err=True)
    if not revoke:
        return False
    try:
        with app.admin() as admin:
            admin.revoke_key(key_id)
    except TroveNotFoundError:
        app.output.note(f"    key {key_id} was already revoked")
        return True
    if not quiet:
        app.output.result(f"revoked {key_id}", fg="red")
    return True
