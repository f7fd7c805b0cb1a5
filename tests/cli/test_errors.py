"""The exit-code table (CONTRACT §5.3) and the one stderr line per failure."""

from __future__ import annotations

import pytest

from trove_cli.config import ProfileNotFound
from trove_cli.errors import exit_code_for, handle, message_for
from trove_sdk import (
    TroveAuthError,
    TroveConnectionError,
    TroveError,
    TroveNotFoundError,
    TroveServerError,
    TroveTimeoutError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TroveAuthError("Invalid API key", 401), 2),
        (TroveAuthError("This key is scoped to namespace 'a'", 403), 2),
        (TroveNotFoundError("Path not found: workspace/x", 404), 1),
        (TroveError("label too long", 422), 1),
        (TroveServerError("boom", 500), 1),
        (TroveTimeoutError("Command timed out after 30s.", 408), 1),
        (TroveTimeoutError("request to http://x timed out", None), 4),
        (TroveConnectionError("could not reach http://127.0.0.1:9/v1/me: refused"), 4),
        (ProfileNotFound("x", []), 3),
        (KeyboardInterrupt(), 130),
        (BrokenPipeError(32, "Broken pipe"), 141),
        (RuntimeError("bug"), 1),
    ],
)
def test_each_failure_has_its_exit_code(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_http_errors_say_the_status_and_the_detail() -> None:
    message = message_for(TroveNotFoundError("Path not found: workspace/x", 404))
    assert message == "error: HTTP 404 — Path not found: workspace/x"


def test_long_details_are_cut_at_200_characters() -> None:
    message = message_for(TroveError("x" * 500, 400))
    assert message == "error: HTTP 400 — " + "x" * 200 + "…"


def test_network_errors_name_the_url_tried() -> None:
    message = message_for(TroveConnectionError("could not reach http://127.0.0.1:9/v1/me: refused"))
    assert message == "error: network — could not reach http://127.0.0.1:9/v1/me: refused"


def test_a_request_id_is_kept_in_the_message() -> None:
    message = message_for(TroveServerError("boom", 500, request_id="req-1"))
    assert message == "error: HTTP 500 — boom (request id req-1)"


def test_unexpected_errors_name_their_type() -> None:
    assert message_for(RuntimeError("bug")) == "error: RuntimeError: bug"


def test_ctrl_c_prints_no_message() -> None:
    assert message_for(KeyboardInterrupt()) is None


def test_a_closed_stdout_is_reported_with_its_exit_code_and_no_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert handle(BrokenPipeError(32, "Broken pipe")) == 141
    assert capsys.readouterr() == ("", "")
