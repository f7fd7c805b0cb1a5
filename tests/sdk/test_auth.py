"""Device login polling and sign-up, without a key."""

from __future__ import annotations

import httpx
import pytest
import respx

from tests.sdk.clock import instant_sleeps
from trove_sdk import DeviceCode, DeviceLoginError, TroveAuth, TroveError

BASE = "https://api.test"
START = {
    "device_code": "trove-dc-1",
    "user_code": "BRDG-FXSH",
    "verification_uri": f"{BASE}/cli",
    "verification_uri_complete": f"{BASE}/cli?code=BRDG-FXSH",
    "interval": 0,
    "expires_in": 600,
}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    instant_sleeps(monkeypatch, "trove_sdk._io")


def test_start_sends_no_key_and_floors_the_interval_to_one_second() -> None:
    with respx.mock(base_url=BASE) as router, TroveAuth(BASE) as auth:
        route = router.post("/v1/auth/device/start").respond(201, json=START)
        code = auth.start_device_login()
    assert "authorization" not in route.calls[0].request.headers
    assert code.interval == 1
    assert code.browser_uri.endswith("?code=BRDG-FXSH")


def test_wait_rides_out_network_errors_and_5xx_until_approved() -> None:
    pending: list[int] = []
    answers = [
        httpx.ConnectError("down"),
        httpx.Response(503),
        httpx.Response(200, json={"status": "pending"}),
        httpx.Response(200, json={"status": "approved", "api_key": "trove-sk-new",
                                  "workspace_id": "ws-1", "key_id": "key-9"}),
    ]  # fmt: skip
    with respx.mock(base_url=BASE) as router, TroveAuth(BASE) as auth:
        route = router.post("/v1/auth/device/poll").mock(side_effect=answers)
        result = auth.wait_for_device_login(
            DeviceCode.from_dict(START), on_pending=lambda: pending.append(1)
        )
    assert (result.api_key, result.workspace_id, result.key_id) == ("trove-sk-new", "ws-1", "key-9")
    assert route.calls[0].request.read() == b'{"device_code":"trove-dc-1"}'
    assert pending == [1]


@pytest.mark.parametrize(("status", "message"), [("denied", "denied"), ("expired", "expired")])
def test_a_denied_or_expired_code_ends_the_login(status: str, message: str) -> None:
    with respx.mock(base_url=BASE) as router, TroveAuth(BASE) as auth:
        router.post("/v1/auth/device/poll").respond(200, json={"status": status})
        with pytest.raises(DeviceLoginError, match=message):
            auth.wait_for_device_login(DeviceCode.from_dict(START))


def test_a_4xx_while_polling_aborts() -> None:
    with respx.mock(base_url=BASE) as router, TroveAuth(BASE) as auth:
        router.post("/v1/auth/device/poll").respond(400, json={"detail": "unknown device code"})
        with pytest.raises(TroveError, match="unknown device code"):
            auth.wait_for_device_login(DeviceCode.from_dict(START))


def test_signup_returns_both_keys() -> None:
    with respx.mock(base_url=BASE) as router, TroveAuth(BASE) as auth:
        route = router.post("/v1/workspaces").respond(
            201, json={"workspace_id": "ws-1", "api_key": "trove-sk-a", "admin_key": "trove-sk-b"}
        )
        created = auth.signup("acme")
    assert route.calls[0].request.read() == b'{"name":"acme"}'
    assert (created.api_key, created.admin_key) == ("trove-sk-a", "trove-sk-b")
    assert "trove-sk" not in repr(created)
