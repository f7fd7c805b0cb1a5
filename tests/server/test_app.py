"""Behaviour every route shares: request ids, the error shape, tolerant bodies, quiet logs,
and streaming that keeps memory flat."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pytest

from tests.server.support import headers


def test_every_answer_carries_a_request_id(http, trove_server):
    for response in (
        http.get("/v1/me", headers=headers(trove_server.api_key)),
        http.get("/v1/me"),
        http.get("/no/such/route"),
        http.delete("/v1/me", headers=headers(trove_server.api_key)),
    ):
        assert response.headers["x-request-id"].startswith("req_")


def test_a_plain_client_request_id_is_echoed(http):
    response = http.get("/v1/me", headers={"X-Request-Id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"


def test_an_unsafe_client_request_id_is_replaced(http):
    response = http.get("/v1/me", headers={"X-Request-Id": "x" * 200})
    assert response.headers["x-request-id"].startswith("req_")


def test_an_unknown_route_is_404_with_a_detail(http):
    response = http.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found: no such route (GET /v2/nothing)"}


def test_a_wrong_method_is_405_with_a_detail(http, trove_server):
    response = http.put("/v1/me", headers=headers(trove_server.api_key))
    assert response.status_code == 405
    assert response.json()["detail"].startswith("Method Not Allowed")
    assert "GET" in response.headers["allow"]


def test_a_json_content_type_with_an_empty_body_is_tolerated(http, trove_server, namespace):
    """Node's SDK sends Content-Type: application/json on every request, GET and DELETE too."""
    h = {**headers(trove_server.api_key, namespace), "Content-Type": "application/json"}
    assert http.get("/v1/files", headers=h).status_code == 200
    snap = http.post("/v1/snapshots", headers=h).json()
    assert http.delete(f"/v1/snapshots/{snap['snapshot_id']}", headers=h).status_code == 200


def test_logs_never_hold_keys_secrets_or_file_contents(
    caplog, trove_server, admin_client, namespace
):
    caplog.set_level(logging.DEBUG, logger="trove_server")
    secret_text = f"top-secret-{uuid.uuid4().hex}"
    key = admin_client.create_key("logged?")
    hook = admin_client.create_webhook("http://127.0.0.1:9/unreachable", namespace=namespace)
    with trove_server.client(namespace, api_key=key.api_key) as c:
        c.write("secret.txt", secret_text)
        c.upload("secret.bin", secret_text.encode())
        c.exec_detailed(f"echo {secret_text}", stdin=secret_text)
        c.read_text("secret.txt")
    admin_client.test_webhook(hook.webhook_id)
    admin_client.delete_webhook(hook.webhook_id)
    admin_client.revoke_key(key.key_id)
    logged = caplog.text
    assert "trove_server.access" in {r.name for r in caplog.records}  # logging did happen
    for leaked in (key.api_key, hook.signing_secret, secret_text, trove_server.admin_key):
        assert leaked not in logged


def test_a_control_character_in_the_path_cannot_forge_a_log_line(caplog, http, trove_server):
    caplog.set_level(logging.INFO, logger="trove_server.access")
    forged = "2026-01-01 00:00:00 INFO trove_server.access: GET /v1/me 200"
    http.get(f"/files/a%0A{forged}", headers=headers(trove_server.api_key, "logs"))
    (line,) = [r.getMessage() for r in caplog.records if forged in r.getMessage()]
    assert "\n" not in line
    assert "/files/a\\n2026" in line


@pytest.mark.slow
def test_streaming_keeps_server_memory_flat(tmp_path: Path):
    """Moving 64 MiB up and down raises the server's peak RSS by far less than 64 MiB."""
    from trove_server.testing import spawn_server

    def kib(pid: int, field: str) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    data = os.urandom(1 << 20) * 64
    with spawn_server(tmp_path / "data") as server, server.client("big", timeout=120) as c:
        pid = server.process.pid
        c.write("warm.txt", "x")
        before = kib(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak
        c.upload("big.bin", data)
        sink = tmp_path / "back.bin"
        c.download("big.bin", sink)
        growth_mib = (kib(pid, "VmHWM") - before) / 1024
    assert sink.read_bytes() == data
    assert growth_mib < 24
