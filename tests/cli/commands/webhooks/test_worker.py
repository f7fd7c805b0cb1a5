"""``trove webhooks worker``: a real process draining a real inbox, stopped by SIGTERM."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from click.testing import CliRunner

from tests.webhooks.conftest import SECRET
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import Process, base_env
from trove_cli.main import cli
from trove_sdk import WebhookVerifier
from trove_webhooks.inbox import open_sync_inbox
from trove_webhooks.testing import signed_delivery

TROVE = str(Path(sys.executable).parent / "trove")


def test_help_names_the_inbox_and_concurrency() -> None:
    result = CliRunner().invoke(cli, ["webhooks", "worker", "--help"])
    assert result.exit_code == 0
    assert "--inbox" in result.stdout and "--concurrency" in result.stdout


def test_a_handler_module_that_does_not_import_is_a_usage_error(
    tmp_path: Path, trove_home: str
) -> None:
    result = CliRunner().invoke(
        cli, ["webhooks", "worker", "nope.hooks:router", "--inbox", f"sqlite:///{tmp_path}/i.db"]
    )
    assert result.exit_code == 2
    assert "cannot import handler module 'nope.hooks'" in result.stderr


def test_the_worker_drains_the_inbox_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/inbox.db"
    inbox = open_sync_inbox(url)
    ids = []
    for _ in range(5):
        d = signed_delivery("exec.completed", secret=SECRET)
        verified = WebhookVerifier(SECRET).verify(d.body, d.headers["X-Trove-Signature"])
        inbox.enqueue(verified, d.body, {}, received_at=time.time())
        ids.append(d.event_id)
    log = tmp_path / "hooks.log"
    worker = Process(
        [
            TROVE,
            "webhooks",
            "worker",
            "tests.webhooks.process_hooks:router",
            "--inbox",
            url,
            "--concurrency",
            "2",
        ],
        base_env(HOOKS_LOG=str(log)),
        tmp_path / "worker.log",
    ).start()
    try:
        deadline = time.monotonic() + 20
        while inbox.stats()["done"] < 5:
            assert time.monotonic() < deadline, worker.output
            time.sleep(0.05)
    finally:
        code = worker.terminate()
        inbox.close()
    assert code == 0
    assert sorted(e for e, _, _ in read_log(str(log))) == sorted(ids)
    assert "worker stopping" in worker.output


def test_a_lease_not_longer_than_the_timeout_is_refused(tmp_path: Path, trove_home: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["webhooks", "worker", "tests.webhooks.process_hooks:router", "--inbox",
         f"sqlite:///{tmp_path}/i.db", "--timeout", "5", "--lease", "5"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "longer than --timeout" in result.stderr
