"""Owner sessions in the browser (dashboard, device approval), over plain HTTP."""

from __future__ import annotations

import httpx


def _sign_in(browser: httpx.Client, admin_key: str) -> None:
    answer = browser.post("/dashboard/login", data={"admin_key": admin_key, "next": "/dashboard"})
    assert answer.status_code == 303


def _sees_dashboard(browser: httpx.Client) -> bool:
    return 'id="workspace"' in browser.get("/dashboard").text


def test_a_session_opened_with_an_admin_key_ends_when_the_key_is_revoked(trove_server):
    """Else a leaked key, once revoked, would still approve device logins for 12 hours."""
    doomed = trove_server.create_key("dashboard-signin", admin=True)
    with httpx.Client(base_url=trove_server.base_url, timeout=30) as browser:
        _sign_in(browser, doomed.api_key)
        assert _sees_dashboard(browser)
        with trove_server.admin() as admin:
            admin.revoke_key(doomed.key_id)
        assert not _sees_dashboard(browser)


def test_a_session_from_a_dashboard_link_does_not_depend_on_any_key(trove_server):
    with httpx.Client(timeout=30) as browser:
        assert browser.get(trove_server.dashboard_url(), follow_redirects=True).status_code == 200
        assert 'id="workspace"' in browser.get(f"{trove_server.base_url}/dashboard").text
