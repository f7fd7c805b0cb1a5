"""``trove login``, ``logout`` and ``whoami``.

``login`` takes the key from ``--api-key``, else one line piped on stdin, else a hidden prompt
(``--no-browser``), else the browser (device) flow; then it checks the key with ``GET /v1/me``
(which also tells it the workspace and any namespace lock) and saves the profile.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from trove_cli.config import DEFAULT_BASE_URL, DEFAULT_PROFILE_NAME, Profile, base_url_problem
from trove_cli.errors import EXIT_AUTH, CLIError
from trove_cli.humanize import mask_secret
from trove_cli.options import json_option

if TYPE_CHECKING:
    from trove_cli.app import App
    from trove_cli.output import Output
    from trove_sdk import Identity

__all__ = ["login_command", "logout_command", "whoami_command"]

KEYS_PAGE = "https://trovefiles.dev/dashboard/keys"
LOGIN_ME_TIMEOUT = 15.0
WHOAMI_ME_TIMEOUT = 10.0
_DOT_EVERY = 5.0


def fetch_identity(api_key: str, base_url: str, timeout: float) -> Identity | None:
    """``GET /v1/me`` for a key; None when the server predates it (404)."""
    from trove_sdk import TroveAdminClient, TroveNotFoundError

    # /v1/me needs no workspace; the placeholder only satisfies the constructor.
    with TroveAdminClient(api_key, "ws-unknown", base_url=base_url, timeout=timeout) as admin:
        try:
            return admin.me()
        except TroveNotFoundError:
            return None


def _save_name(app: App, save_as: str | None, legacy: str | None) -> str:
    """``--save-as`` > login's deprecated ``--profile`` > the root ``--profile`` > default."""
    out = app.output
    if save_as is not None:
        if legacy is not None and legacy != save_as:
            raise CLIError(f"--save-as ({save_as!r}) and --profile ({legacy!r}) disagree")
        return save_as
    if legacy is not None:
        out.warn("warning: `trove login --profile X` is deprecated; use `--save-as X`")
        return legacy
    if app.profile_name is not None:
        out.warn(
            f"note: saving as '{app.profile_name}' (from the root --profile); "
            "pass --save-as to silence this"
        )
        return app.profile_name
    return DEFAULT_PROFILE_NAME


def _device_login(out: Output, base_url: str) -> tuple[str, str]:
    """The browser flow (CONTRACT §2.10): returns ``(api_key, workspace_id)``."""
    import contextlib
    import time
    import webbrowser

    from trove_sdk import TroveAuth, TroveNotFoundError

    with TroveAuth(base_url) as auth:
        try:
            code = auth.start_device_login()
        except TroveNotFoundError:
            raise CLIError(
                "this Trove server does not support browser login; pass --api-key "
                "(or pipe a key on stdin) instead"
            ) from None
        out.info("")
        out.info("Opening your browser to authorize this CLI…")
        out.info("")
        out.err.line(f"  Code: {code.user_code}", fg="cyan", bold=True)
        out.info(f"  URL:  {code.browser_uri}")
        out.info("")
        out.info("Confirm the code matches in your browser, then approve.")
        out.note("(Pass --api-key or pipe a key on stdin to skip the browser flow.)")
        out.info("")
        # No usable browser is fine: the URL is printed above.
        with contextlib.suppress(Exception):
            webbrowser.open(code.browser_uri, new=2)
        last_dot = time.monotonic()

        def pending() -> None:
            nonlocal last_dot
            if time.monotonic() - last_dot >= _DOT_EVERY:
                out.err.write(".")
                last_dot = time.monotonic()

        result = auth.wait_for_device_login(code, on_pending=pending)
        out.info("")
        return result.api_key, result.workspace_id


def _read_key(out: Output, no_browser: bool, base_url: str) -> tuple[str, str | None]:
    """The key, from stdin, a prompt or the browser; plus a workspace the browser named."""
    from trove_cli import stdin

    if not stdin.is_terminal():
        line = sys.stdin.readline().strip()
        if line:
            return line, None
    if no_browser:
        out.info(f"Get a key at {KEYS_PAGE}.")
        key = str(click.prompt("API key", hide_input=True, err=True)).strip()
        if not key:
            raise CLIError("no API key given")
        return key, None
    return _device_login(out, base_url)


def _check_base_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    problem = base_url_problem(value)
    if problem is not None:
        raise click.BadParameter(problem, ctx, param)
    return value.rstrip("/")


@click.command("login")
@click.option("--save-as", "save_as", default=None, metavar="NAME", help="Profile name to save.")
@click.option("--profile", "legacy_profile", default=None, hidden=True)
@click.option("--api-key", default=None, help="Use this key (skips the browser).")
@click.option(
    "--workspace", "workspace_id", default=None, help="Workspace id (ws-...); checked via /v1/me."
)
@click.option("--namespace", default=None, help="Default namespace for runtime commands.")
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    callback=_check_base_url,
    help="API root (e.g. http://127.0.0.1:8787 for `trove server`).",
)
@click.option("--no-browser", is_flag=True, help="Prompt for a key instead of opening a browser.")
@json_option("Print the saved profile as JSON (the key masked).")
@click.pass_obj
def login_command(
    app: App,
    save_as: str | None,
    legacy_profile: str | None,
    api_key: str | None,
    workspace_id: str | None,
    namespace: str | None,
    base_url: str,
    no_browser: bool,
    as_json: bool,
) -> None:
    """Save credentials so other commands can talk to Trove.

    \b
    trove login                                  # browser: approve a short code
    trove login --api-key trove-sk-...           # a key you already have
    echo "$KEY" | trove login --save-as ci       # piped (CI)
    trove login --base-url http://127.0.0.1:8787 # a local `trove server`
    """
    from trove_sdk import TroveAuthError

    out = app.output
    name = _save_name(app, save_as, legacy_profile)
    base_url = base_url.rstrip("/")
    device_workspace: str | None = None
    if not api_key:
        api_key, device_workspace = _read_key(out, no_browser, base_url)
    api_key = api_key.strip()
    try:
        me = fetch_identity(api_key, base_url, LOGIN_ME_TIMEOUT)
    except TroveAuthError as exc:
        raise CLIError(
            f"auth failed (HTTP {exc.status_code}): {exc.message}. Check the key at {KEYS_PAGE}",
            exit_code=EXIT_AUTH,
        ) from None
    lock: str | None = None
    if me is not None:
        if workspace_id and workspace_id != me.workspace_id:
            raise CLIError(
                f"--workspace {workspace_id} does not match this key's workspace "
                f"({me.workspace_id}); drop --workspace to use the key's"
            )
        workspace_id = me.workspace_id
        lock = me.namespace
        if namespace and lock and namespace != lock:
            # Saved, it would make every runtime command fail with a 403.
            raise CLIError(
                f"--namespace {namespace} cannot be used with this key: it is locked to "
                f"namespace {lock}; drop --namespace to use {lock}"
            )
    elif not workspace_id:
        workspace_id = device_workspace or str(click.prompt("Workspace ID (ws-...)", err=True))
    workspace_id = workspace_id.strip()
    if not workspace_id.startswith("ws-"):
        raise CLIError(f"a workspace id starts with 'ws-' (got {workspace_id!r})")

    final_namespace = namespace or lock
    config = app.config
    config.save(
        Profile(
            name=name,
            api_key=api_key,
            workspace_id=workspace_id,
            base_url=base_url,
            namespace=final_namespace,
        ),
        # `trove login` with no name means "log me in": the profile it saves must be the one
        # the next command uses, even where `trove dev` made its own profile the default.
        make_default=not config.profile_names or name == DEFAULT_PROFILE_NAME,
    )
    if as_json:
        out.json(
            {
                "profile": name,
                "api_key": mask_secret(api_key),
                "workspace_id": workspace_id,
                "base_url": base_url,
                "namespace": final_namespace,
                "scope": me.scope if me is not None else None,
                "default": config.default_profile == name,
            }
        )
    else:
        bits = [f"workspace={workspace_id}"]
        if final_namespace:
            bits.append(f"namespace={final_namespace}")
        if me is not None:
            bits.append(f"scope={me.scope}")
        out.result(f"saved profile '{name}' ({mask_secret(api_key)})  " + "  ".join(bits))
    if config.default_profile != name:
        out.note(
            f"'{config.default_profile}' is still the default profile; "
            f"use this one with `trove --profile {name} …`"
        )


@click.command("logout")
@click.option(
    "--profile",
    "name",
    default=None,
    metavar="NAME",
    help="Profile to forget (default: the default profile).",
)
@click.pass_obj
def logout_command(app: App, name: str | None) -> None:
    """Forget a saved profile (its key stays valid on the server)."""
    name = name or app.config.default_profile
    if app.config.delete(name):
        app.output.result(f"removed profile '{name}'")
    else:
        app.output.warn(f"no profile '{name}' to remove")


@click.command("whoami")
@json_option()
@click.pass_obj
def whoami_command(app: App, as_json: bool) -> None:
    """Show the active profile and what the server says about its key."""
    from trove_sdk import TroveAuthError, TroveError

    profile = app.profile()
    out = app.output
    me: Identity | None = None
    unreachable: str | None = None
    rejected = False
    try:
        me = fetch_identity(profile.api_key, profile.base_url, WHOAMI_ME_TIMEOUT)
        if me is None:
            unreachable = "the server has no /v1/me"
    except TroveError as exc:
        unreachable = str(exc)
        # A key the server refuses is not a network blip: say so with exit 2.
        rejected = isinstance(exc, TroveAuthError)
    if as_json:
        data: dict[str, Any] = {
            "profile": profile.name,
            "source": profile.source,
            "workspace_id": profile.workspace_id,
            "api_key": mask_secret(profile.api_key),
            "base_url": profile.base_url,
            "default_namespace": profile.namespace,
            "reachable": me is not None,
        }
        if me is not None:
            data.update(
                key_id=me.key_id,
                key_name=me.key_name,
                scope=me.scope,
                namespace_lock=me.namespace,
                capabilities=list(me.capabilities),
                isolation=me.isolation,
            )
        else:
            data["error"] = unreachable
        out.json(data)
        if rejected:
            raise click.exceptions.Exit(EXIT_AUTH)
        return
    out.out.line(f"profile         : {profile.name}")
    out.out.line(f"workspace       : {profile.workspace_id}")
    out.out.line(f"api key         : {mask_secret(profile.api_key)}")
    out.out.line(f"base url        : {profile.base_url}")
    if me is None:
        if profile.namespace:
            out.out.line(f"default namespace: {profile.namespace}")
        if rejected:
            out.error(f"error: the server rejected this key: {unreachable}")
            raise click.exceptions.Exit(EXIT_AUTH)
        out.warn(f"note: /v1/me unreachable ({unreachable}) — scope and lock not shown")
        return
    out.out.line(f"key id          : {me.key_id or '-'}")
    out.out.line(f"key name        : {me.key_name or '-'}")
    out.out.line(f"scope           : {me.scope}")
    if me.namespace:
        out.out.line(
            f"namespace lock  : {me.namespace}  (key is scoped — cannot access other namespaces)"
        )
    elif profile.namespace:
        out.out.line(
            f"default namespace: {profile.namespace}  (profile default; overridable with -n)"
        )
    else:
        out.out.line(
            "default namespace: -  (set with `trove login --namespace <ns>` or $TROVE_NAMESPACE)"
        )
