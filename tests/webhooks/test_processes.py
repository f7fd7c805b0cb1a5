"""Several receiver processes sharing one store, and a receiver killed mid-handler.

The receivers are real ``python -m trove_webhooks`` processes on loopback ports; the stores are
a SQLite file, the real Redis and the real PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.webhooks.conftest import SECRET
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import ReceiverProcess, base_env
from trove_webhooks.testing import SignedDelivery, signed_delivery

# Processes share SQLite (one host), Redis and PostgreSQL; never the in-memory store.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize(
        "store_url",
        [
            "sqlite",
            pytest.param("redis", marks=pytest.mark.redis),
            pytest.param("postgres", marks=pytest.mark.postgres),
        ],
        indirect=True,
    ),
]


@pytest.fixture
def receivers(store_url: str, tmp_path: Path) -> Iterator[tuple[ReceiverProcess, ...]]:
    """Two receivers; the first blocks a minute in a slow handler, the second a moment."""
    env = base_env(
        TROVE_WEBHOOKS_STORE=store_url,
        TROVE_WEBHOOKS_LEASE="2",
        HOOKS_LOG=str(tmp_path / "hooks.log"),
    )
    procs = tuple(
        ReceiverProcess(
            {**env, "HOOKS_SLOW_SECONDS": slow},
            tmp_path / f"receiver{i}.log",
            "tests.webhooks.process_hooks:router",
        )
        for i, slow in enumerate(["60", "0.1"])
    )
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: p.start(), procs))
    yield procs
    for proc in procs:
        proc.stop()


def send(url: str, delivery: SignedDelivery) -> httpx.Response:
    return httpx.post(url, content=delivery.body, headers=delivery.headers, timeout=30)


def test_duplicates_sent_to_different_processes_run_each_handler_once(
    receivers: tuple[ReceiverProcess, ...], tmp_path: Path
) -> None:
    deliveries = [
        signed_delivery("file.written" if i % 2 else "exec.completed", secret=SECRET)
        for i in range(30)
    ]
    jobs = [(receivers[n % 2].deliveries, d) for d in deliveries for n in range(4)]
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(12) as pool:
        answers = pool.map(
            lambda j: client.post(j[0], content=j[1].body, headers=j[1].headers), jobs
        )
        statuses = Counter(r.json()["status"] for r in answers)
    handled = Counter(event_id for event_id, _, _ in read_log(str(tmp_path / "hooks.log")))
    assert handled == Counter({d.event_id: 1 for d in deliveries})
    assert statuses["processed"] == 30
    assert set(statuses) <= {"processed", "duplicate", "in_flight"}
    pids = {pid for _, pid, _ in read_log(str(tmp_path / "hooks.log"))}
    assert len(pids) == 2, "both processes should have handled some events"


def test_after_a_kill_mid_handler_the_redelivery_is_processed_once_the_lease_ends(
    receivers: tuple[ReceiverProcess, ...], tmp_path: Path
) -> None:
    first, second = receivers
    log = str(tmp_path / "hooks.log")
    slow = signed_delivery(
        "file.written", secret=SECRET, data={"path": f"workspace/slow-{uuid.uuid4().hex}"}
    )
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(send, first.deliveries, slow)
        deadline = time.monotonic() + 20
        while not any(phase == "start" for _, _, phase in read_log(log)):
            assert time.monotonic() < deadline, first.output
            time.sleep(0.02)
        first.kill()
        with pytest.raises(httpx.HTTPError):
            pending.result()
    # The dead process's lease still holds: the sender is told to come back later.
    busy = send(second.deliveries, slow.with_headers(X_Trove_Attempt="2"))
    assert busy.status_code == 409
    assert 1 <= int(busy.headers["retry-after"]) <= 2
    time.sleep(2.2)
    retried = send(second.deliveries, slow.with_headers(X_Trove_Attempt="3"))
    assert retried.json()["status"] == "processed", retried.text
    phases = [(pid, phase) for event_id, pid, phase in read_log(log) if event_id == slow.event_id]
    assert [phase for _, phase in phases] == ["start", "start", "done"]
    assert phases[1][0] == phases[2][0] != phases[0][0]
