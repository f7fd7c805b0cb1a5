"""The owner's browser pages: sign-in, dashboard, and the device-login approval page
(``verification_uri``). HTML for humans, so they are not part of ``/openapi.json``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trove_server import devicelogin, pages, sessions
from trove_server.auth import authenticate
from trove_server.errors import ApiError
from trove_server.state import ServerState
from trove_server.validation import read_body

__all__ = ["routes"]

_FORM_LIMIT = 16 * 1024


def _server(request: Request) -> ServerState:
    server: ServerState = request.app.state.trove
    return server


def _safe_next(value: str | None) -> str:
    """Only a path on this server (no scheme, no host, no ``//evil``) is followed."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


async def _form(request: Request) -> dict[str, str]:
    raw = await read_body(request, _FORM_LIMIT)
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def dashboard(request: Request) -> Response:
    server = _server(request)
    token = request.query_params.get("token")
    if token:
        workspace_id = sessions.consume_link(server.db, token)
        if workspace_id is None:
            return pages.login_page(
                "/dashboard", "This sign-in link was already used or has expired.", 401
            )
        response = RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        sessions.start_session(server.db, workspace_id, response, secure=_secure(request))
        return response
    workspace_id = sessions.session_workspace(server.db, request)
    if workspace_id is None:
        return pages.login_page("/dashboard")
    pending = [p.user_code for p in devicelogin.pending_codes(server)]
    return pages.dashboard_page(workspace_id, pending, sessions.csrf_token(request))


async def login(request: Request) -> Response:
    server = _server(request)
    form = await _form(request)
    target = _safe_next(form.get("next"))
    try:
        principal = authenticate(server.db, "Bearer " + form.get("admin_key", "").strip())
    except ApiError:
        return pages.login_page(target, "That key is not valid.", 401)
    if not principal.is_admin:
        return pages.login_page(target, "Sign in with an admin key, not a workspace key.", 403)
    response = RedirectResponse(target, 303)
    sessions.start_session(
        server.db,
        principal.workspace_id,
        response,
        secure=_secure(request),
        key_id=principal.key_id,
    )
    return response


async def logout(request: Request) -> Response:
    server = _server(request)
    form = await _form(request)
    if not sessions.valid_csrf(request, form.get("csrf", "")):
        return pages.message_page("Sign out", "The form expired; reload the page.", 403)
    response = RedirectResponse("/dashboard", 303)
    sessions.end_session(server.db, request, response)
    return response


async def device(request: Request) -> Response:
    server = _server(request)
    workspace_id = sessions.session_workspace(server.db, request)
    code = (request.query_params.get("code") or "").strip().upper() or None
    if workspace_id is None:
        target = "/device" + (f"?{urlencode({'code': code})}" if code else "")
        return pages.login_page(target)
    return pages.device_page(workspace_id, code, sessions.csrf_token(request))


async def decide(request: Request) -> Response:
    server = _server(request)
    workspace_id = sessions.session_workspace(server.db, request)
    form = await _form(request)
    code = form.get("code", "").strip().upper()
    if workspace_id is None:
        return pages.login_page("/device?" + urlencode({"code": code}), "Sign in first.", 401)
    if not sessions.valid_csrf(request, form.get("csrf", "")):
        return pages.device_page(
            workspace_id, code, sessions.csrf_token(request), "The form expired; try again."
        )
    decision = form.get("decision")
    if decision not in ("approve", "deny"):
        return pages.device_page(
            workspace_id, code, sessions.csrf_token(request), "Choose Approve or Deny."
        )
    outcome = devicelogin.decide(server, workspace_id, code, decision == "approve")
    if outcome == "approved":
        return pages.message_page(
            "Approved", "Login approved. You can close this tab and return to your terminal."
        )
    if outcome == "denied":
        return pages.message_page("Denied", "Login denied. The terminal will be told.")
    return pages.message_page(
        "Unknown code", f"No pending login has the code {code!r} (expired or already used).", 404
    )


routes = [
    Route("/dashboard", dashboard, methods=["GET"]),
    Route("/dashboard/login", login, methods=["POST"]),
    Route("/dashboard/logout", logout, methods=["POST"]),
    Route("/device", device, methods=["GET"]),
    Route("/device", decide, methods=["POST"]),
]
