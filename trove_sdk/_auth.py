"""Calls made without a key: the device login flow (CONTRACT §2.10) and open sign-up (X8)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from trove_sdk._base import Call, Op, Sleep, expect_object, parse_model
from trove_sdk._config import DEFAULT_BASE_URL
from trove_sdk._exceptions import (
    TroveAuthError,
    TroveConnectionError,
    TroveError,
    TroveServerError,
    TroveTimeoutError,
)
from trove_sdk._io import AsyncIO, SyncIO
from trove_sdk._models import DeviceCode, DeviceLoginResult, WorkspaceCreated

__all__ = ["AsyncTroveAuth", "DeviceLoginError", "TroveAuth"]

_DEVICE_TIMEOUT = 30.0
# While polling, a flaky network or a restarting server must not end the login.
_TRANSIENT = (TroveConnectionError, TroveTimeoutError, TroveServerError)


class DeviceLoginError(TroveAuthError):
    """The human denied the login, or the code expired before approval."""


class AuthOps:
    def _start_op(self) -> Op[DeviceCode]:
        call = Call("POST", "/v1/auth/device/start", timeout=_DEVICE_TIMEOUT)
        return parse_model((yield call), DeviceCode.from_dict)

    def _wait_op(
        self, code: DeviceCode, on_pending: Callable[[], object] | None
    ) -> Op[DeviceLoginResult]:
        deadline = time.monotonic() + code.expires_in
        while True:
            yield Sleep(code.interval)
            if time.monotonic() > deadline:
                raise DeviceLoginError("the login code expired before it was approved")
            try:
                response = yield Call(
                    "POST",
                    "/v1/auth/device/poll",
                    json={"device_code": code.device_code},
                    timeout=_DEVICE_TIMEOUT,
                )
            except _TRANSIENT:
                continue
            body = expect_object(response)
            status = body.get("status")
            if status == "approved":
                return parse_model(
                    response,
                    lambda d: DeviceLoginResult(
                        api_key=d["api_key"],
                        workspace_id=d["workspace_id"],
                        key_id=d.get("key_id") or "",
                    ),
                )
            if status == "denied":
                raise DeviceLoginError("the login was denied in the browser")
            if status == "expired":
                raise DeviceLoginError("the login code expired before it was approved")
            if status != "pending":
                raise TroveError(f"unexpected device login status {status!r}")
            if on_pending is not None:
                on_pending()

    def _signup_op(self, name: str) -> Op[WorkspaceCreated]:
        call = Call("POST", "/v1/workspaces", json={"name": name})
        return parse_model((yield call), WorkspaceCreated.from_dict)


class TroveAuth(AuthOps, SyncIO):
    """Obtain a key without one: browser (device) login, or sign-up where a server allows it.

    Parameters:
        base_url: the API root; the hosted service by default.
        http_client: an ``httpx.Client`` to reuse.
    """

    def __init__(
        self, base_url: str = DEFAULT_BASE_URL, *, http_client: httpx.Client | None = None
    ) -> None:
        super().__init__(api_key=None, base_url=base_url, timeout=_DEVICE_TIMEOUT, max_retries=0)
        self._init_http(http_client)

    def start_device_login(self) -> DeviceCode:
        """Begin a login: show ``user_code`` and open ``browser_uri`` for the human."""
        return self._run(self._start_op())

    def wait_for_device_login(
        self, code: DeviceCode, *, on_pending: Callable[[], object] | None = None
    ) -> DeviceLoginResult:
        """Poll until the human approves (returns the minted key) or denies / lets it expire
        (``DeviceLoginError``). Network errors and 5xx while polling are ridden out."""
        return self._run(self._wait_op(code, on_pending))

    def signup(self, name: str) -> WorkspaceCreated:
        """Create a workspace (servers started with sign-up enabled only)."""
        return self._run(self._signup_op(name))


class AsyncTroveAuth(AuthOps, AsyncIO):
    """Asynchronous twin of ``TroveAuth``.

    Parameters:
        base_url: the API root; the hosted service by default.
        http_client: an ``httpx.AsyncClient`` to reuse.
    """

    def __init__(
        self, base_url: str = DEFAULT_BASE_URL, *, http_client: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(api_key=None, base_url=base_url, timeout=_DEVICE_TIMEOUT, max_retries=0)
        self._init_http(http_client)

    async def start_device_login(self) -> DeviceCode:
        return await self._run(self._start_op())

    async def wait_for_device_login(
        self, code: DeviceCode, *, on_pending: Callable[[], object] | None = None
    ) -> DeviceLoginResult:
        return await self._run(self._wait_op(code, on_pending))

    async def signup(self, name: str) -> WorkspaceCreated:
        return await self._run(self._signup_op(name))
