"""Retries: which calls, which failures, how long — and never a second exec."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from tests.sdk.clock import instant_sleeps
from trove_sdk import (
    AsyncTroveClient,
    TroveAdminClient,
    TroveClient,
    TroveConnectionError,
    TroveError,
    TroveServerError,
    TroveTimeoutError,
)

BASE = "https://api.test"
LISTING = {"entries": [], "truncated": False}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record the driver's sleeps instead of waiting."""
    yield instant_sleeps(monkeypatch, "trove_sdk._io")


def _client(retries: int = 2) -> TroveClient:
    return TroveClient("trove-sk-x", "alice", base_url=BASE, max_retries=retries)


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_a_read_is_retried_after_a_retryable_status(status: int, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.get("/v1/files").mock(
            side_effect=[httpx.Response(status), httpx.Response(200, json=LISTING)]
        )
        assert client.list_dir() == []
    assert route.call_count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 500])
def test_a_non_retryable_status_is_raised_at_once(status: int, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.get("/v1/files").respond(status)
        with pytest.raises(TroveError):
            client.list_dir()
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_exec_is_never_retried_after_a_response(status: int, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.post("/v1/exec").respond(status)
        with pytest.raises(TroveError):
            client.exec_detailed("rm -rf workspace/build && make")
    assert route.call_count == 1


def test_exec_is_not_retried_after_the_request_was_sent(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.post("/v1/exec").mock(side_effect=httpx.ReadError("reset"))
        with pytest.raises(TroveConnectionError):
            client.exec_detailed("make")
    assert route.call_count == 1


def test_exec_is_retried_when_the_connection_never_opened(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.post("/v1/exec").mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"exit_code": 0})]
        )
        assert client.exec_detailed("make").exit_code == 0
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("POST", "/v1/snapshots", lambda c: c.create_snapshot("x")),
        ("POST", "/v1/snapshots/snap-1/restore", lambda c: c.restore_snapshot("snap-1")),
    ],
)
def test_creates_and_restores_are_not_retried(
    method: str, path: str, call, sleeps: list[float]
) -> None:  # type: ignore[no-untyped-def]
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.route(method=method, path=path).respond(503)
        with pytest.raises(TroveServerError):
            call(client)
    assert route.call_count == 1


WS = "ws-d69634745de7ce97"
ADMIN = f"/v1/workspaces/{WS}"


def _admin(retries: int = 2) -> TroveAdminClient:
    return TroveAdminClient("trove-sk-admin", WS, base_url=BASE, max_retries=retries)


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/keys", lambda a: a.create_key("ci")),
        ("/webhooks", lambda a: a.create_webhook("https://example.test/hook")),
        ("/webhooks/wh-1/test", lambda a: a.test_webhook("wh-1")),
        ("/webhooks/wh-1/rotate-secret", lambda a: a.rotate_webhook_secret("wh-1")),
        ("/webhooks/wh-1/replay", lambda a: a.replay_webhook("wh-1", since="1h")),
        ("/webhooks/wh-1/deliveries/dlv-1/retry", lambda a: a.retry_delivery("wh-1", "dlv-1")),
    ],
    ids=[
        "create_key",
        "create_webhook",
        "test_webhook",
        "rotate_webhook_secret",
        "replay_webhook",
        "retry_delivery",
    ],
)
def test_admin_creates_are_not_retried_after_a_response(
    path: str, call: Callable[[TroveAdminClient], object], status: int, sleeps: list[float]
) -> None:
    """A second POST could mint a second key or webhook, send a second test event, rotate
    twice (losing the secret shown once) or queue a delivery twice."""
    with respx.mock(base_url=BASE) as router, _admin() as admin:
        route = router.post(ADMIN + path).respond(status)
        with pytest.raises(TroveError):
            call(admin)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
@pytest.mark.parametrize(
    ("path", "answer", "call"),
    [
        ("/keys", {"keys": []}, lambda a: a.list_keys()),
        ("/webhooks", {"webhooks": []}, lambda a: a.list_webhooks()),
        ("/webhooks/wh-1/deliveries", {"deliveries": []}, lambda a: a.list_deliveries("wh-1")),
        ("/events", {"events": []}, lambda a: a.list_events()),
    ],
    ids=["list_keys", "list_webhooks", "list_deliveries", "list_events"],
)
def test_admin_reads_are_retried(
    path: str,
    answer: dict[str, object],
    call: Callable[[TroveAdminClient], object],
    status: int,
    sleeps: list[float],
) -> None:
    with respx.mock(base_url=BASE) as router, _admin() as admin:
        route = router.get(ADMIN + path).mock(
            side_effect=[httpx.Response(status), httpx.Response(200, json=answer)]
        )
        call(admin)
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_write_upload_and_delete_are_retried(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        write = router.post("/write").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(200, json={"path": "workspace/a", "size_bytes": 1}),
            ]
        )
        upload = router.put("/files/b").mock(
            side_effect=[
                httpx.Response(502),
                httpx.Response(200, json={"path": "workspace/b", "size_bytes": 1}),
            ]
        )
        delete = router.post("/delete").mock(
            side_effect=[httpx.Response(504), httpx.Response(200, json={"deleted": "workspace/a"})]
        )
        client.write("a", "x")
        client.upload("b", b"y")
        client.delete("a")
    assert (write.call_count, upload.call_count, delete.call_count) == (2, 2, 2)


def test_a_retried_file_upload_sends_the_whole_file_again(tmp_path, sleeps: list[float]) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "data.bin"
    source.write_bytes(b"0123456789" * 1000)
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(503)
        return httpx.Response(200, json={"path": "workspace/data.bin", "size_bytes": 10000})

    with respx.mock(base_url=BASE) as router, _client() as client, source.open("rb") as handle:
        router.put("/files/data.bin").mock(side_effect=handler)
        client.upload("data.bin", handle)
    assert bodies == [source.read_bytes()] * 2


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "3"}),
                httpx.Response(200, json=LISTING),
            ]
        )
        client.list_dir()
    assert sleeps[0] >= 3


def test_a_retry_after_beyond_the_cap_raises_instead_of_blocking(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        route = router.get("/v1/files").respond(503, headers={"Retry-After": "3600"})
        with pytest.raises(TroveServerError):
            client.list_dir()
    assert route.call_count == 1


def test_backoff_stops_after_max_retries(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client(retries=3) as client:
        route = router.get("/v1/files").respond(503)
        with pytest.raises(TroveServerError):
            client.list_dir()
    assert route.call_count == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= 8 for s in sleeps)


def test_max_retries_zero_disables_retries(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client(retries=0) as client:
        route = router.get("/v1/files").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(TroveConnectionError):
            client.list_dir()
    assert route.call_count == 1


def test_a_timeout_after_sending_a_read_is_retried(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=LISTING)]
        )
        assert client.list_dir() == []


def test_a_persistent_timeout_raises_timeout_error(sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as router, _client() as client:
        router.get("/v1/files").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(TroveTimeoutError):
            client.list_dir()


async def test_the_async_client_follows_the_same_rules(sleeps: list[float]) -> None:
    async with AsyncTroveClient("trove-sk-x", "alice", base_url=BASE) as client:
        with respx.mock(base_url=BASE) as router:
            reads = router.get("/v1/files").mock(
                side_effect=[httpx.Response(503), httpx.Response(200, json=LISTING)]
            )
            execs = router.post("/v1/exec").respond(503)
            assert await client.list_dir() == []
            with pytest.raises(TroveServerError):
                await client.exec_detailed("make")
    assert (reads.call_count, execs.call_count) == (2, 1)
    assert len(sleeps) == 1
