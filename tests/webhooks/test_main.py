"""``python -m trove_webhooks``: the deployable receiver, as the deploy files start it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.webhooks.conftest import SECRET
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import ROOT, ReceiverProcess, base_env
from trove_webhooks.testing import signed_delivery

# uvicorn shuts down gracefully on SIGTERM, then re-raises it: death by SIGTERM is the normal
# end (systemd and Kubernetes count it as clean).
CLEAN_EXIT = (0, -signal.SIGTERM)


def send(url: str, delivery: object) -> httpx.Response:
    return httpx.post(url, content=delivery.body, headers=delivery.headers, timeout=30)  # type: ignore[attr-defined]


def test_without_a_handler_module_each_verified_event_is_a_json_line(tmp_path: Path) -> None:
    receiver = ReceiverProcess(base_env(), tmp_path / "out.log").start()
    try:
        delivery = signed_delivery("snapshot.created", secret=SECRET)
        assert send(receiver.deliveries, delivery).json()["status"] == "processed"
        forged = send(receiver.deliveries, signed_delivery(secret="trove-whsec-wrong"))
        assert forged.status_code == 400
    finally:
        assert receiver.terminate() in CLEAN_EXIT
    lines = [json.loads(line) for line in receiver.output.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines if "event" in line]
    assert [e["id"] for e in events] == [delivery.event_id]
    assert events[0]["data"]["snapshot_id"] == "snap-4f1c2a9e0b7d"


def test_log_format_json_makes_every_log_line_json(tmp_path: Path) -> None:
    receiver = ReceiverProcess(base_env(LOG_FORMAT="json"), tmp_path / "out.log").start()
    send(receiver.deliveries, signed_delivery(secret="trove-whsec-wrong"))
    receiver.terminate()
    logs = [line for line in receiver.output.splitlines() if line.strip()]
    assert logs and all(json.loads(line) for line in logs)
    assert any(json.loads(line).get("logger", "").startswith("uvicorn") for line in logs)


def test_shutdown_waits_for_the_handler_in_flight(tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    env = base_env(HOOKS_LOG=str(log), HOOKS_SLOW_SECONDS="1.5")
    receiver = ReceiverProcess(env, tmp_path / "out.log", "tests.webhooks.process_hooks").start()
    delivery = signed_delivery("file.written", secret=SECRET, data={"path": "workspace/slow.txt"})
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(send, receiver.deliveries, delivery)
        while not read_log(str(log)):
            time.sleep(0.02)
        started = time.monotonic()
        assert receiver.terminate() in CLEAN_EXIT
        assert time.monotonic() - started > 0.5
        assert pending.result().json()["status"] == "processed"
    assert [phase for _, _, phase in read_log(str(log))] == ["start", "done"]


def test_several_workers_with_the_memory_store_exit_2_naming_a_shared_store() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trove_webhooks"],
        env=base_env(WORKERS="2"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "sqlite:///" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_missing_secret_exits_2_with_the_variable_name() -> None:
    env = base_env()
    del env["TROVE_WEBHOOK_SECRET"]
    result = subprocess.run(
        [sys.executable, "-m", "trove_webhooks"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TROVE_WEBHOOK_SECRET" in result.stderr


def test_a_malformed_variable_exits_2_naming_it_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trove_webhooks"],
        env=base_env(PORT="eighty"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
