"""Device login (CONTRACT §2.10): the API, and the approval page driven as a browser would
(cookies, forms, CSRF) over real HTTP. The real-browser run is in ``test_dashboard.py``."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from trove_sdk import DeviceLoginError, TroveAuth, TroveClient, TroveNotFoundError


@contextlib.contextmanager
def _signed_in(trove_server) -> Iterator[httpx.Client]:
    """A cookie-keeping client signed in through a one-time dashboard link."""
    with httpx.Client(base_url=trove_server.base_url, follow_redirects=True) as browser:
        page = browser.get(trove_server.dashboard_url())
        assert page.status_code == 200
        assert trove_server.workspace_id in page.text
        yield browser


def _decide(browser: httpx.Client, code: str, decision: str) -> httpx.Response:
    page = browser.get("/device", params={"code": code})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser.post("/device", data={"code": code, "csrf": csrf, "decision": decision})


def test_start_answers_201_with_codes_and_links(http):
    response = http.post("/v1/auth/device/start")
    assert response.status_code == 201
    body = response.json()
    assert body["device_code"].startswith("trove-dc-")
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", body["user_code"])
    assert body["verification_uri"].endswith("/device")
    assert body["verification_uri_complete"].endswith(f"/device?code={body['user_code']}")
    assert (body["interval"], body["expires_in"]) == (2, 600)


def test_a_new_code_is_pending(http):
    code = http.post("/v1/auth/device/start").json()
    poll = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
    assert poll.json() == {"status": "pending"}


def test_approval_mints_a_key_that_the_next_poll_returns_once(http, trove_server):
    code = http.post("/v1/auth/device/start").json()
    with _signed_in(trove_server) as browser:
        result = _decide(browser, code["user_code"], "approve")
    assert "Login approved" in result.text
    approved = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]}).json()
    assert approved["status"] == "approved"
    assert approved["workspace_id"] == trove_server.workspace_id
    with TroveClient(approved["api_key"], "device", base_url=trove_server.base_url) as c:
        assert c.me().key_id == approved["key_id"]
    again = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
    assert again.json() == {"status": "expired"}


def test_the_sdk_login_flow_completes_when_the_owner_approves(trove_server):
    with TroveAuth(trove_server.base_url) as auth, _signed_in(trove_server) as browser:
        code = auth.start_device_login()
        approver = threading.Timer(0.5, _decide, (browser, code.user_code, "approve"))
        approver.start()
        result = auth.wait_for_device_login(code)
        approver.join()
    assert result.workspace_id == trove_server.workspace_id
    assert result.api_key.startswith("trove-sk-")


def test_denial_is_reported_to_the_cli(http, trove_server):
    code = http.post("/v1/auth/device/start").json()
    with _signed_in(trove_server) as browser:
        result = _decide(browser, code["user_code"], "deny")
    assert "Login denied" in result.text
    poll = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
    assert poll.json() == {"status": "denied"}
    with TroveAuth(trove_server.base_url) as auth, pytest.raises(DeviceLoginError):
        from trove_sdk import DeviceCode

        auth.wait_for_device_login(
            DeviceCode(code["device_code"], code["user_code"], code["verification_uri"], None, 1)
        )


def test_an_expired_code_reports_expired_and_cannot_be_approved(tmp_path):
    from trove_server.testing import run_server

    with (
        run_server(tmp_path, device_code_ttl=1) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        code = http.post("/v1/auth/device/start").json()
        time.sleep(1.2)
        poll = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
        assert poll.json() == {"status": "expired"}
        with _signed_in(server) as browser:
            result = _decide(browser, code["user_code"], "approve")
        assert result.status_code == 404
        assert "No pending login" in result.text


def test_an_unknown_device_code_is_404(http):
    poll = http.post("/v1/auth/device/poll", json={"device_code": "trove-dc-made-up"})
    assert poll.status_code == 404


@pytest.mark.parametrize("body", [{}, {"device_code": ""}, {"device_code": 7}])
def test_a_bad_poll_is_422(http, body):
    assert http.post("/v1/auth/device/poll", json=body).status_code == 422


def test_the_approval_page_asks_for_a_sign_in_first(http):
    code = http.post("/v1/auth/device/start").json()
    page = http.get("/device", params={"code": code["user_code"]})
    assert page.status_code == 200
    assert "Sign in" in page.text
    assert 'id="approve"' not in page.text  # no approval form before signing in


def test_approving_without_a_session_is_refused(http):
    code = http.post("/v1/auth/device/start").json()
    response = http.post("/device", data={"code": code["user_code"], "decision": "approve"})
    assert response.status_code == 401
    poll = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
    assert poll.json() == {"status": "pending"}


def test_a_forged_csrf_token_is_refused(http, trove_server):
    code = http.post("/v1/auth/device/start").json()
    with _signed_in(trove_server) as browser:
        response = browser.post(
            "/device", data={"code": code["user_code"], "csrf": "forged", "decision": "approve"}
        )
    assert "The form expired" in response.text
    poll = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]})
    assert poll.json() == {"status": "pending"}


def test_a_dashboard_link_works_only_once(trove_server):
    url = trove_server.dashboard_url()
    with httpx.Client(follow_redirects=True) as first:
        assert first.get(url).status_code == 200
    with httpx.Client(follow_redirects=True) as second:
        reused = second.get(url)
    assert reused.status_code == 401
    assert "already used" in reused.text


def test_an_admin_key_signs_in_and_a_workspace_key_does_not(trove_server):
    with httpx.Client(base_url=trove_server.base_url, follow_redirects=True) as browser:
        refused = browser.post("/dashboard/login", data={"admin_key": trove_server.api_key})
        assert refused.status_code == 403
        page = browser.post(
            "/dashboard/login", data={"admin_key": trove_server.admin_key, "next": "/dashboard"}
        )
        assert page.status_code == 200
        assert trove_server.workspace_id in page.text


def test_sign_in_never_redirects_off_site(trove_server):
    with httpx.Client(base_url=trove_server.base_url) as browser:
        response = browser.post(
            "/dashboard/login",
            data={"admin_key": trove_server.admin_key, "next": "//evil.example/steal"},
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"


def test_pages_forbid_framing_and_external_loads(http):
    page = http.get("/dashboard")
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_the_session_cookie_is_http_only_and_same_site_strict(trove_server):
    with httpx.Client(base_url=trove_server.base_url) as browser:
        response = browser.get(trove_server.dashboard_url())
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_approval_emits_key_created(http, trove_server, admin_client):
    code = http.post("/v1/auth/device/start").json()
    with _signed_in(trove_server) as browser:
        _decide(browser, code["user_code"], "approve")
    approved = http.post("/v1/auth/device/poll", json={"device_code": code["device_code"]}).json()
    event = admin_client.list_events(types="key.created", limit=1).events[0]
    assert event.data.key_id == approved["key_id"]
    assert event.data.name == f"device login {code['user_code']}"
    with pytest.raises(TroveNotFoundError):
        admin_client.revoke_key("key-not-the-device-key")
