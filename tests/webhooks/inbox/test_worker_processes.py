"""A worker process killed (SIGKILL) mid-handler: its lease runs out and another worker
process finishes the event, as its second attempt."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.webhooks.inbox.test_inbox import put
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import Process, base_env
from trove_webhooks.inbox import EntryStatus, open_sync_inbox

pytestmark = pytest.mark.slow

TROVE = str(Path(sys.executable).parent / "trove")
# Long enough that the first worker is killed well before its own timeout would record a
# failure (the second attempt must come from the lease running out, not from a retry).
TIMEOUT_SECONDS = 3.0
LEASE_SECONDS = 4.0


def test_a_worker_killed_mid_handler_leaves_its_event_to_another_after_the_lease(
    inbox_url: str, tmp_path: Path
) -> None:
    log = str(tmp_path / "hooks.log")
    env = base_env(HOOKS_LOG=log)
    argv = [TROVE, "webhooks", "worker", "tests.webhooks.inbox.kill_hooks:router",
            "--inbox", inbox_url, "--timeout", str(TIMEOUT_SECONDS),
            "--lease", str(LEASE_SECONDS)]  # fmt: skip
    workers = [Process(argv, env, tmp_path / f"worker{i}.log") for i in range(2)]
    inbox = open_sync_inbox(inbox_url)
    try:
        event_id = put(inbox)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda w: w.start(), workers))
        deadline = time.monotonic() + 30
        while not (started := [pid for _, pid, phase in read_log(log) if phase == "start-1"]):
            assert time.monotonic() < deadline, [w.output for w in workers]
            time.sleep(0.01)
        killed_at = time.monotonic()
        [victim] = [w for w in workers if w.proc and str(w.proc.pid) == started[0]]
        [survivor] = [w for w in workers if w is not victim]
        victim.kill()
        while (entry := inbox.get(event_id)) is None or entry.status is not EntryStatus.DONE:
            assert time.monotonic() < killed_at + LEASE_SECONDS + 15, survivor.output
            time.sleep(0.05)
        finished_after = time.monotonic() - killed_at
    finally:
        inbox.close()
        for worker in workers:
            worker.stop()
    assert survivor.proc is not None
    runs = [(pid, phase) for eid, pid, phase in read_log(log) if eid == event_id]
    assert runs == [
        (started[0], "start-1"),
        (str(survivor.proc.pid), "start-2"),
        (str(survivor.proc.pid), "done-2"),
    ]
    assert entry.attempts == 2
    assert entry.last_error is None  # no failure was recorded: the lease simply ran out
    # The survivor waited for the lease (taken moments before the kill) to run out.
    assert finished_after >= LEASE_SECONDS / 2, finished_after
