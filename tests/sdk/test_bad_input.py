"""Bad arguments fail with a clear error before any request is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from trove_sdk import TroveAdminClient, TroveClient

BASE = "https://api.test"


@pytest.fixture
def no_requests() -> Any:
    """A router with no routes: any request fails the test."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router
        # Inside the block: respx forgets its calls when the mock is left.
        assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.exec_chain([]), ValueError, "non-empty list"),
        (lambda c: c.exec_chain(["ls", "  "]), ValueError, "index 1 is empty"),
        (lambda c: c.exec_chain("ls"), ValueError, "non-empty list"),
        (lambda c: c.exec_detailed(""), ValueError, "non-empty string"),
        (
            lambda c: c.exec_detailed("cat", stdin="x" * (1024 * 1024 + 1)),
            ValueError,
            "at most 1048576",
        ),
        (lambda c: c.exec("cat", stdin=b"bytes"), TypeError, "stdin must be text"),
        (lambda c: c.exec_detailed("sleep 1", timeout_s="5"), TypeError, "number of seconds"),
        (lambda c: c.write("workspace/", "x"), ValueError, "does not name a file"),
        (lambda c: c.write("workspace", "x"), ValueError, "does not name a file"),
        (lambda c: c.write("a.txt", b"bytes"), TypeError, "use upload"),
        (lambda c: c.upload("", b"x"), ValueError, "does not name a file"),
        (lambda c: c.upload("a", 42), TypeError, "bytes or a binary file"),
        (lambda c: c.delete("/"), ValueError, "does not name a file"),
        (lambda c: c.restore_snapshot("../keys"), ValueError, "invalid id"),
        (lambda c: c.delete_snapshot(""), ValueError, "invalid id"),
    ],
)
def test_runtime_bad_arguments(
    no_requests: Any, call: Callable[[TroveClient], Any], error: type, message: str
) -> None:
    with TroveClient("k", "ns", base_url=BASE) as client, pytest.raises(error, match=message):
        call(client)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.create_key("k", namespace="a", admin=True), "cannot be locked"),
        (lambda c: c.update_webhook("wh-1"), "at least one field"),
        (lambda c: c.revoke_key("key/../x"), "invalid id"),
        (lambda c: c.list_events(limit=500), "between 1 and 200"),
    ],
)
def test_admin_bad_arguments(
    no_requests: Any, call: Callable[[TroveAdminClient], Any], message: str
) -> None:
    with (
        TroveAdminClient("k", "ws-1", base_url=BASE) as client,
        pytest.raises(ValueError, match=message),
    ):
        call(client)


@pytest.mark.parametrize("namespace", ["", "a\nX-Evil: 1", "tab\there", "ünï"])
def test_a_namespace_that_cannot_be_a_header_is_refused(namespace: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        TroveClient("k", namespace)


def test_an_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        TroveClient(" ", "ns")


def test_a_workspace_id_without_the_ws_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="ws-"):
        TroveAdminClient("k", "d69634745de7ce97")


@pytest.mark.parametrize(
    "key", ["trove-sk-abc\ndef", "trove-sk-abc def", "trove-sk-äbc", "trove-sk-\x00abc"]
)
def test_an_api_key_that_cannot_be_a_header_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(ValueError, match="api_key") as caught:
        TroveClient(key, "ns")
    assert "abc" not in str(caught.value)


def test_whitespace_around_an_api_key_is_not_sent() -> None:
    with (
        respx.mock(base_url=BASE) as router,
        TroveClient(" trove-sk-abc\n", "ns", base_url=BASE) as client,
    ):
        me = router.get("/v1/me").respond(200, json={"workspace_id": "ws-1"})
        client.me()
        assert me.calls.last.request.headers["authorization"] == "Bearer trove-sk-abc"


@pytest.mark.parametrize("base_url", ["api.trovefiles.dev", "localhost:8000", "ftp://x", ""])
def test_a_base_url_without_an_http_scheme_is_refused_at_construction(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        TroveClient("k", "ns", base_url=base_url)
