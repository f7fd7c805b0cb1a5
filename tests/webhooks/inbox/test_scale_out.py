"""Three receivers and three workers sharing one PostgreSQL inbox share the load."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.webhooks.conftest import SECRET, drop_postgres_table
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import Process, ReceiverProcess, base_env
from trove_webhooks.inbox import open_sync_inbox
from trove_webhooks.testing import signed_delivery

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TROVE = str(Path(sys.executable).parent / "trove")
EVENTS = 450


@pytest.fixture
def postgres_inbox(postgres_url: str) -> Iterator[str]:
    table = f"test_inbox_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url}?table={table}"
    drop_postgres_table(postgres_url, table)


def test_three_receivers_and_three_workers_share_the_load(
    postgres_inbox: str, tmp_path: Path
) -> None:
    env = base_env(
        TROVE_WEBHOOKS_INBOX=postgres_inbox,
        INBOX_WORKERS="0",
        HOOKS_LOG=str(tmp_path / "hooks.log"),
    )
    router = "tests.webhooks.process_hooks:chaos_router"
    receivers = [ReceiverProcess(env, tmp_path / f"r{i}.log", router) for i in range(3)]
    workers = [
        Process(
            [TROVE, "webhooks", "worker", router, "--inbox", postgres_inbox, "--concurrency", "2"],
            env,
            tmp_path / f"w{i}.log",
        )
        for i in range(3)
    ]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda p: p.start(), [*receivers, *workers]))
    deliveries = [
        signed_delivery("file.written", secret=SECRET, data={"path": f"workspace/ok-{i}"})
        for i in range(EVENTS)
    ]
    try:
        with httpx.Client(timeout=10) as client, ThreadPoolExecutor(12) as pool:
            answers = list(
                pool.map(
                    lambda job: client.post(
                        receivers[job[0] % 3].deliveries,
                        content=job[1].body,
                        headers=job[1].headers,
                    ),
                    enumerate(deliveries),
                )
            )
            inbox = open_sync_inbox(postgres_inbox)
            deadline = time.monotonic() + 60
            while inbox.stats()["done"] < EVENTS:
                assert time.monotonic() < deadline, inbox.stats()
                time.sleep(0.1)
            stats = inbox.stats()
            inbox.close()
    finally:
        for proc in [*receivers, *workers]:
            proc.stop()
    assert {a.status_code for a in answers} == {202}
    assert stats == {"pending": 0, "running": 0, "done": EVENTS, "dead": 0}
    done_by = Counter(
        pid for _, pid, phase in read_log(str(tmp_path / "hooks.log")) if phase == "done"
    )
    worker_pids = {str(w.proc.pid) for w in workers if w.proc}
    assert set(done_by) == worker_pids
    assert sum(done_by.values()) == EVENTS
    assert max(done_by.values()) < EVENTS * 0.6, done_by
