"""Every non-2xx status maps to the contract's exception class, with the server's detail."""

from __future__ import annotations

import httpx
import pytest
import respx

from trove_sdk import (
    TroveAuthError,
    TroveClient,
    TroveConnectionError,
    TroveError,
    TroveExecError,
    TroveNotFoundError,
    TroveRateLimitError,
    TroveServerError,
    TroveTimeoutError,
)

BASE = "https://api.test"


def _client() -> TroveClient:
    return TroveClient("trove-sk-x", "alice", base_url=BASE, max_retries=0)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, TroveError),
        (401, TroveAuthError),
        (403, TroveAuthError),
        (404, TroveNotFoundError),
        (408, TroveTimeoutError),
        (409, TroveError),
        (413, TroveError),
        (422, TroveError),
        (429, TroveRateLimitError),
        (500, TroveServerError),
        (502, TroveServerError),
        (503, TroveServerError),
        (504, TroveTimeoutError),
    ],
)
def test_status_maps_to_exception_class(status: int, cls: type[TroveError]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").respond(status, json={"detail": f"boom {status}"})
        with pytest.raises(cls) as info:
            client.list_dir()
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.message == f"boom {status}"


def test_the_message_is_the_raw_text_when_the_body_is_not_json() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").respond(502, text="Bad Gateway from the proxy")
        with pytest.raises(TroveServerError, match="Bad Gateway from the proxy"):
            client.list_dir()


def test_a_validation_list_detail_is_kept_and_summarised() -> None:
    detail = [{"loc": ["body", "command"], "msg": "field required", "type": "missing"}]
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").respond(422, json={"detail": detail})
        with pytest.raises(TroveError) as info:
            client.exec_detailed("ls")
    assert info.value.detail == detail
    assert str(info.value) == "command: field required"


def test_the_request_id_is_carried_and_shown() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").respond(
            500, json={"detail": "internal"}, headers={"X-Request-Id": "req-42"}
        )
        with pytest.raises(TroveServerError) as info:
            client.list_dir()
    assert info.value.request_id == "req-42"
    assert "req-42" in str(info.value)


def test_a_request_id_already_quoted_in_the_detail_is_shown_once() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").respond(
            500,
            json={"detail": "Internal server error (request id req-42)"},
            headers={"X-Request-Id": "req-42"},
        )
        with pytest.raises(TroveServerError) as info:
            client.list_dir()
    assert str(info.value) == "Internal server error (request id req-42)"


def test_rate_limit_error_carries_retry_after() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").respond(
            429, json={"detail": "slow down"}, headers={"Retry-After": "7"}
        )
        with pytest.raises(TroveRateLimitError) as info:
            client.exec_detailed("ls")
    assert info.value.retry_after == 7


def test_a_refused_connection_is_a_connection_error() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(TroveConnectionError, match="could not reach"):
            client.list_dir()


def test_a_client_side_timeout_is_a_timeout_error_without_status() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(TroveTimeoutError) as info:
            client.exec_detailed("sleep 100")
    assert info.value.status_code is None


def test_a_success_without_json_is_a_clear_error() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").respond(200, text="<html>captive portal</html>")
        with pytest.raises(TroveError, match="expected JSON"):
            client.exec_detailed("ls")


def test_a_response_missing_a_required_field_is_a_clear_error() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").respond(200, json={"stdout": "x"})
        with pytest.raises(TroveError, match="unexpected response from /v1/exec"):
            client.exec_detailed("ls")


def test_exec_check_raises_exec_error_with_the_outputs() -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.post("/v1/exec").respond(200, json={"exit_code": 3, "stdout": "o", "stderr": "e"})
        with pytest.raises(TroveExecError) as info:
            client.exec("false", check=True)
    assert (info.value.exit_code, info.value.stdout, info.value.stderr) == (3, "o", "e")
    assert info.value.status_code is None
    assert str(info.value) == "command failed (exit 3): e"


def test_exec_error_message_falls_back_to_stdout_then_placeholder() -> None:
    assert str(TroveExecError("c", 1, "only stdout", "")) == "command failed (exit 1): only stdout"
    assert str(TroveExecError("c", 1, "", "")) == "command failed (exit 1): <no output>"
    assert str(TroveExecError("c", 1, "", "x" * 300)).endswith("x" * 200 + "…")


def test_a_password_in_the_base_url_never_reaches_an_error_message() -> None:
    base = "https://bob:hunter2@api.test"
    with (
        respx.mock(base_url=BASE) as router,
        TroveClient("trove-sk-x", "alice", base_url=base, max_retries=0) as client,
    ):
        router.get("/v1/files").mock(
            side_effect=httpx.ConnectError("refused by https://bob:hunter2@api.test")
        )
        with pytest.raises(TroveConnectionError) as info:
            client.list_dir()
    assert "hunter2" not in str(info.value)
    assert "bob:***@api.test/v1/files" in str(info.value)
    assert "path=" not in str(info.value)
