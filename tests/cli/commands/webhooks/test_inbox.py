"""``trove webhooks inbox``: stats, list, show, retry and purge on a real SQLite inbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.webhooks.conftest import SECRET
from trove_cli.main import cli
from trove_sdk import WebhookVerifier
from trove_webhooks.inbox import SqlInbox, open_sync_inbox
from trove_webhooks.testing import signed_delivery


@pytest.fixture
def inbox_url(tmp_path: Path, trove_home: str) -> Iterator[str]:
    """An inbox holding one done, one dead (with a traceback) and one pending entry."""
    url = f"sqlite:///{tmp_path}/inbox.db"
    inbox = open_sync_inbox(url)
    ids = [put(inbox) for _ in range(3)]
    done, dead = inbox.claim(lease_seconds=30), inbox.claim(lease_seconds=30)
    assert done is not None and dead is not None
    inbox.complete(done.event_id, done.lease_token or "")
    inbox.fail(dead.event_id, dead.lease_token or "", "Traceback:\nValueError: no", retry_in=None)
    inbox.close()
    yield url
    assert ids


def put(inbox: SqlInbox) -> str:
    d = signed_delivery("file.written", secret=SECRET)
    verified = WebhookVerifier(SECRET).verify(d.body, d.headers["X-Trove-Signature"])
    inbox.enqueue(verified, d.body, {}, received_at=time.time() - 1)
    return d.event_id


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["webhooks", "inbox", *args])


def ids_with(url: str, status: str) -> list[str]:
    inbox = open_sync_inbox(url)
    try:
        return [e.event_id for e in inbox.list(status=status)]
    finally:
        inbox.close()


@pytest.mark.parametrize("command", ["stats", "list", "show", "retry", "purge"])
def test_every_inbox_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--inbox" in result.stdout and "--json" in result.stdout


def test_stats_json_counts_every_status(inbox_url: str) -> None:
    result = run("stats", "--inbox", inbox_url, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"pending": 1, "running": 0, "done": 1, "dead": 1}


def test_stats_text_is_a_table_on_stdout(inbox_url: str) -> None:
    result = run("stats", "--inbox", inbox_url)
    assert "STATUS" in result.stdout and "dead" in result.stdout
    assert result.stderr == ""


def test_the_inbox_url_comes_from_the_environment(inbox_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["webhooks", "inbox", "stats", "--json"], env={"TROVE_WEBHOOKS_INBOX": inbox_url}
    )
    assert json.loads(result.stdout)["done"] == 1


def test_list_filters_by_status(inbox_url: str) -> None:
    result = run("list", "--inbox", inbox_url, "--status", "dead", "--json")
    entries = json.loads(result.stdout)["entries"]
    assert [e["status"] for e in entries] == ["dead"]
    assert entries[0]["last_error"].endswith("ValueError: no")


def test_show_prints_the_last_error_and_the_event(inbox_url: str) -> None:
    dead = ids_with(inbox_url, "dead")[0]
    result = run("show", dead, "--inbox", inbox_url)
    assert result.exit_code == 0
    assert "status:       dead" in result.stdout
    assert "ValueError: no" in result.stdout
    assert dead in result.stdout


def test_show_json_includes_the_event(inbox_url: str) -> None:
    dead = ids_with(inbox_url, "dead")[0]
    shown = json.loads(run("show", dead, "--inbox", inbox_url, "--json").stdout)
    assert shown["event"]["id"] == dead and shown["event"]["type"] == "file.written"


def test_show_of_an_unknown_id_fails_with_a_message(inbox_url: str) -> None:
    result = run("show", "evt-nope", "--inbox", inbox_url)
    assert result.exit_code == 1
    assert "no inbox entry for event evt-nope" in result.stderr


def test_retry_requeues_one_dead_entry(inbox_url: str) -> None:
    dead = ids_with(inbox_url, "dead")[0]
    result = run("retry", dead, "--inbox", inbox_url, "--json")
    assert json.loads(result.stdout) == {"requeued": 1}
    assert dead in ids_with(inbox_url, "pending")


def test_retry_dead_requeues_all_dead_entries(inbox_url: str) -> None:
    result = run("retry", "--dead", "--inbox", inbox_url)
    assert result.exit_code == 0
    assert "requeued 1 entry" in result.stdout
    assert ids_with(inbox_url, "dead") == []


def test_retry_needs_exactly_one_of_an_id_or_dead(inbox_url: str) -> None:
    assert run("retry", "--inbox", inbox_url).exit_code == 2
    assert run("retry", "evt-x", "--dead", "--inbox", inbox_url).exit_code == 2


def test_purge_deletes_old_done_entries_but_keeps_dead_ones(inbox_url: str) -> None:
    result = run("purge", "--older-than", "0s", "--force", "--inbox", inbox_url, "--json")
    assert json.loads(result.stdout) == {"purged": 1}
    assert ids_with(inbox_url, "done") == [] and len(ids_with(inbox_url, "dead")) == 1


def test_purge_with_dead_deletes_dead_entries_too(inbox_url: str) -> None:
    result = run("purge", "--older-than", "0s", "--dead", "--force", "--inbox", inbox_url, "--json")
    assert json.loads(result.stdout) == {"purged": 2}


@pytest.mark.parametrize("age", ["0s", "5m", "1h", "2d23h59m"])
def test_purge_refuses_an_age_inside_the_dedupe_retention_without_force(
    inbox_url: str, age: str
) -> None:
    """Purged early, a done entry no longer absorbs a replay of its delivery."""
    result = run("purge", "--older-than", age, "--dead", "--inbox", inbox_url)
    assert result.exit_code == 2
    assert "--older-than" in result.stderr and "--force" in result.stderr
    assert "replay" in result.stderr and "handled again" in result.stderr
    assert result.stdout == ""
    assert len(ids_with(inbox_url, "done")) == 1 and len(ids_with(inbox_url, "dead")) == 1


def test_purge_at_the_dedupe_retention_needs_no_force(inbox_url: str) -> None:
    result = run("purge", "--older-than", "3d", "--inbox", inbox_url, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"purged": 0}


def test_purge_refuses_a_duration_it_cannot_read(inbox_url: str) -> None:
    result = run("purge", "--older-than", "a week", "--inbox", inbox_url)
    assert result.exit_code == 2
    assert "--older-than" in result.stderr


def test_an_unknown_inbox_scheme_is_a_usage_error(trove_home: str) -> None:
    result = run("stats", "--inbox", "sqlit:///x.db")
    assert result.exit_code == 2
    assert "Did you mean sqlite://" in result.stderr


@pytest.mark.parametrize("command", [["stats"], ["list"], ["retry", "--dead"]])
def test_a_sqlite_inbox_that_does_not_exist_is_refused_not_created(
    command: list[str], tmp_path: Path, trove_home: str
) -> None:
    missing = tmp_path / "inbx.db"
    result = run(*command, "--inbox", f"sqlite:///{missing}")
    assert result.exit_code == 2
    assert f"no inbox at {missing}" in result.stderr
    assert not missing.exists()
