"""``trove webhooks serve``: refusals before serving, and a real multi-process receiver."""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.webhooks.conftest import SECRET
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import ReceiverProcess, base_env
from trove_cli.main import cli
from trove_webhooks.testing import signed_delivery

TROVE = str(Path(sys.executable).parent / "trove")


def serve(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["webhooks", "serve", *args], env=env or {})


def test_help_describes_the_command() -> None:
    result = serve("--help")
    assert result.exit_code == 0
    assert "MODULE:ROUTER" in result.stdout and "--store" in result.stdout


def test_by_default_it_receives_where_listen_and_trigger_deliver() -> None:
    """`serve`, `listen` and `trigger` work together without a flag."""
    from trove_cli.forwarding import DEFAULT_TARGET
    from trove_webhooks.config import ReceiverSettings

    defaults = ReceiverSettings.from_env({})
    assert f"http://localhost:{defaults.port}{defaults.path}" == DEFAULT_TARGET


def test_several_workers_on_the_memory_store_is_a_usage_error_naming_a_shared_store(
    trove_home: str,
) -> None:
    result = serve("--workers", "2", "--secret", SECRET)
    assert result.exit_code == 2
    assert "sqlite:///" in result.stderr
    assert result.stdout == ""


def test_no_secret_is_a_usage_error_naming_the_variable(trove_home: str) -> None:
    result = serve()
    assert result.exit_code == 2
    assert "TROVE_WEBHOOK_SECRET" in result.stderr


def test_a_handler_module_that_does_not_import_is_reported_before_serving(trove_home: str) -> None:
    result = serve("no_such_module:router", "--secret", SECRET)
    assert result.exit_code == 2
    assert "cannot import handler module 'no_such_module'" in result.stderr


def test_a_malformed_environment_variable_is_a_usage_error(trove_home: str) -> None:
    result = serve("--secret", SECRET, env={"WORKERS": "two"})
    assert result.exit_code == 2
    assert "WORKERS must be a whole number" in result.stderr


def test_a_misspelt_store_with_several_workers_is_refused_before_serving(trove_home: str) -> None:
    result = serve("--workers", "2", "--store", "redsi://localhost:6379/0", "--secret", SECRET)
    assert result.exit_code == 2
    assert "Did you mean redis://" in result.stderr


class ServeProcess(ReceiverProcess):
    """``trove webhooks serve`` itself, as the systemd unit and the Dockerfile run it."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        super().__init__(env, log_path)
        self.argv = [TROVE, "webhooks", "serve", *args, "--port", str(self.port)]


@pytest.mark.slow
def test_two_worker_processes_on_sqlite_run_each_handler_once(tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    args = [
        "tests.webhooks.process_hooks:router",
        "--workers",
        "2",
        "--store",
        f"sqlite:///{tmp_path}/claims.db",
    ]
    receiver = ServeProcess(args, base_env(HOOKS_LOG=str(log)), tmp_path / "serve.log").start()
    try:
        deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(20)]
        jobs = [d for d in deliveries for _ in range(3)]
        with ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(
                    lambda d: httpx.post(
                        receiver.deliveries, content=d.body, headers=d.headers, timeout=30
                    ),
                    jobs,
                )
            )
    finally:
        receiver.terminate()
    assert Counter(a.json()["status"] for a in answers)["processed"] == 20
    assert Counter(e for e, _, _ in read_log(str(log))) == Counter(
        {d.event_id: 1 for d in deliveries}
    )
    assert "Receiving Trove webhooks on http://127.0.0.1" in receiver.output


@pytest.mark.slow
def test_queued_mode_answers_202_and_in_process_workers_run_the_handlers(tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    args = [
        "tests.webhooks.process_hooks:router",
        "--inbox",
        f"sqlite:///{tmp_path}/inbox.db",
        "--inbox-workers",
        "2",
    ]
    receiver = ServeProcess(args, base_env(HOOKS_LOG=str(log)), tmp_path / "serve.log").start()
    deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(5)]
    try:
        answers = [
            httpx.post(receiver.deliveries, content=d.body, headers=d.headers, timeout=30)
            for d in deliveries
        ]
        deadline = time.monotonic() + 20
        while len(read_log(str(log))) < 5:
            assert time.monotonic() < deadline, receiver.output
            time.sleep(0.05)
    finally:
        receiver.terminate()
    assert {a.status_code for a in answers} == {202}
    assert sorted(e for e, _, _ in read_log(str(log))) == sorted(d.event_id for d in deliveries)
    assert "inbox: sqlite:///" in receiver.output
