"""The device-login approval page in a real headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trove_sdk import TroveAuth, TroveClient

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox"],  # CI runs as root, where Chromium's own sandbox cannot start
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_owner_approves_a_cli_login_in_the_browser(page, trove_server):
    with TroveAuth(trove_server.base_url) as auth:
        code = auth.start_device_login()
        page.goto(trove_server.dashboard_url())
        assert page.inner_text("#workspace") == trove_server.workspace_id
        page.goto(code.browser_uri)
        assert page.inner_text("#user-code") == code.user_code
        page.click("#approve")
        assert "Login approved" in page.inner_text("#message")
        result = auth.wait_for_device_login(code)
    with TroveClient(result.api_key, "from-browser", base_url=trove_server.base_url) as c:
        assert c.me().workspace_id == trove_server.workspace_id


def test_a_code_typed_by_hand_can_be_denied(page, trove_server):
    with TroveAuth(trove_server.base_url) as auth:
        code = auth.start_device_login()
        page.goto(trove_server.dashboard_url())
        page.goto(code.verification_uri)
        page.fill("#code", code.user_code.lower())
        page.click("button[type=submit]")
        assert page.inner_text("#user-code") == code.user_code
        page.click("#deny")
        assert "Login denied" in page.inner_text("#message")
        from trove_sdk import DeviceLoginError

        with pytest.raises(DeviceLoginError):
            auth.wait_for_device_login(code)


def test_a_visitor_without_a_session_sees_the_sign_in_form(page, trove_server):
    with TroveAuth(trove_server.base_url) as auth:
        code = auth.start_device_login()
    page.goto(code.browser_uri)
    assert page.locator("#admin_key").count() == 1
    assert page.locator("#approve").count() == 0
    page.fill("#admin_key", trove_server.admin_key)
    page.click("button[type=submit]")
    assert page.inner_text("#user-code") == code.user_code  # back on the approval page
