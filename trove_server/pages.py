"""The few HTML pages a human sees: sign-in, the dashboard, and device-login approval.

Every value is escaped; pages load nothing external and forbid framing (CSP).
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

__all__ = ["dashboard_page", "device_page", "login_page", "message_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
color:#1d2330;background:#f7f7f9}
h1{font-size:1.4rem}main{background:#fff;border:1px solid #dde;border-radius:8px;padding:1.5rem}
.code{font:700 2.2rem ui-monospace,monospace;letter-spacing:.15em;text-align:center;
margin:1.5rem 0;color:#0b5cad}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.approve{background:#0b7a3e;color:#fff;border-color:#0b7a3e}
button.deny{background:#fff;color:#a11}
input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.4rem 0 1rem}
.muted{color:#667;font-size:.9rem}.error{color:#a11}
ul{padding-left:1.2rem}li{margin:.3rem 0}
"""
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · Trove</title><style>{_STYLE}</style></head>"
        f"<body><h1>Trove · {escape(title)}</h1><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def login_page(next_path: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    problem = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    body = f"""{problem}
<p>Sign in as the owner of a workspace: open the dashboard link that <code>trove dev</code>
(or <code>trove server</code>) printed when it started, or paste an admin key.</p>
<form method="post" action="/dashboard/login">
<label for="admin_key">Admin key</label>
<input id="admin_key" name="admin_key" type="password" autocomplete="off" required>
<input type="hidden" name="next" value="{escape(next_path)}">
<button type="submit">Sign in</button></form>"""
    return _page("Sign in", body, status)


def dashboard_page(workspace_id: str, pending: list[str], csrf: str) -> HTMLResponse:
    if pending:
        items = "".join(
            f'<li><a href="/device?code={escape(code)}">{escape(code)}</a></li>' for code in pending
        )
        waiting = f"<p>Logins waiting for approval:</p><ul>{items}</ul>"
    else:
        waiting = '<p class="muted">No device logins are waiting.</p>'
    body = f"""<p>Workspace <code id="workspace">{escape(workspace_id)}</code></p>
{waiting}
<p><a href="/device">Enter a code</a></p>
<form method="post" action="/dashboard/logout">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit">Sign out</button></form>"""
    return _page("Dashboard", body)


def device_page(
    workspace_id: str, code: str | None, csrf: str, error: str | None = None
) -> HTMLResponse:
    problem = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    if code:
        body = f"""{problem}
<p>A command-line login is asking for a key to workspace
<code>{escape(workspace_id)}</code>. Check that this code matches the one in your terminal:</p>
<div class="code" id="user-code">{escape(code)}</div>
<form method="post" action="/device">
<input type="hidden" name="code" value="{escape(code)}">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<button class="approve" type="submit" name="decision" value="approve" id="approve">
Approve</button>
<button class="deny" type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
<p class="muted">Approving creates a workspace key for that terminal.</p>"""
    else:
        body = f"""{problem}
<form method="get" action="/device">
<label for="code">Code shown in your terminal</label>
<input id="code" name="code" placeholder="ABCD-EFGH" autocomplete="off" required>
<button type="submit">Continue</button></form>"""
    return _page("Device login", body)


def message_page(title: str, message: str, status: int = 200) -> HTMLResponse:
    return _page(title, f'<p id="message">{escape(message)}</p>', status)
