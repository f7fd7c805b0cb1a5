"""``trove webhooks list|create|update|delete|test|rotate-secret`` and the delivery log
(``deliveries``, ``retry``, ``replay``), delivered by the real server to a real receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import Trove
from tests.cli.receiver import Receipt, RecordingReceiver, serve
from tests.cli.runner import json_out


class Switchable(RecordingReceiver):
    """A receiver that verifies with whatever secret it is given once the webhook exists."""

    def __init__(self) -> None:
        super().__init__("trove-whsec-placeholder", decide=self.answer)
        self.status = 204

    def answer(self, receipt: Receipt, attempt: int) -> int:
        return self.status

    def use_secret(self, *secrets: str) -> None:
        from trove_sdk import WebhookVerifier

        self.verifier = WebhookVerifier(list(secrets))


@pytest.fixture
def receiver() -> Iterator[tuple[Switchable, str]]:
    app = Switchable()
    with serve(app) as url:
        yield app, url + "/hooks"


@pytest.fixture
def hook(
    admin: Trove, receiver: tuple[Switchable, str], namespace: str
) -> Iterator[dict[str, Any]]:
    app, url = receiver
    created = json_out(admin("webhooks", "create", url, "-n", namespace, "--json"))
    app.use_secret(created["signing_secret"])
    yield created
    admin("webhooks", "delete", created["webhook_id"], "-y")


def wait_for(predicate: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_create_prints_the_signing_secret_once(
    admin: Trove, receiver: tuple[Switchable, str]
) -> None:
    _, url = receiver
    result = admin("webhooks", "create", url, "--events", "file.written, exec.completed")
    assert result.exit_code == 0
    assert result.stdout.startswith("✓ webhook created (the signing secret is shown once")
    fields = {
        k.strip(): v.strip()
        for k, v in (line.split(":", 1) for line in result.stdout.splitlines()[2:7])
    }
    assert fields["signing_secret"].startswith("trove-whsec-")
    assert fields["events"] == "file.written,exec.completed"
    admin("webhooks", "delete", fields["webhook_id"], "-y")


def test_list_shows_the_subscription_and_its_last_delivery(
    admin: Trove, hook: dict[str, Any], client: Any, receiver: tuple[Switchable, str]
) -> None:
    app, url = receiver
    client.write("workspace/a.txt", "a")
    wait_for(lambda: app.receipts)
    wait_for(lambda: "last delivery ✓" in admin("webhooks", "list").stdout)
    rows = admin("webhooks", "list").stdout.splitlines()
    [index] = [i for i, row in enumerate(rows) if row.startswith(hook["webhook_id"])]
    assert rows[index].endswith(url)
    assert rows[index + 1].startswith("  └─ last delivery ✓  status=204")


def test_test_reports_the_receivers_answer(
    admin: Trove, hook: dict[str, Any], receiver: Any
) -> None:
    app, _ = receiver
    result = admin("webhooks", "test", hook["webhook_id"])
    assert result.exit_code == 0
    assert result.stdout.startswith("✓ delivered  status=204  event_id=evt-")
    assert app.receipts[-1].event_type == "webhook.test"


def test_a_failing_test_delivery_exits_1(admin: Trove, hook: dict[str, Any], receiver: Any) -> None:
    app, _ = receiver
    app.status = 500
    result = admin("webhooks", "test", hook["webhook_id"], "--json")
    assert result.exit_code == 1
    assert json_out_unchecked(result)["ok"] is False


def json_out_unchecked(result: Any) -> Any:
    import json

    return json.loads(result.stdout)


def test_update_changes_only_what_is_given(admin: Trove, hook: dict[str, Any]) -> None:
    updated = json_out(
        admin(
            "webhooks",
            "update",
            hook["webhook_id"],
            "--events",
            "exec.completed",
            "--disable",
            "--json",
        )
    )
    assert (updated["events"], updated["enabled"], updated["url"], updated["namespace"]) == (
        ["exec.completed"],
        False,
        hook["url"],
        hook["namespace"],
    )
    cleared = json_out(
        admin("webhooks", "update", hook["webhook_id"], "--all-namespaces", "--json")
    )
    assert cleared["namespace"] is None


def test_update_with_nothing_to_change_says_what_it_takes(
    admin: Trove, hook: dict[str, Any]
) -> None:
    result = admin("webhooks", "update", hook["webhook_id"])
    assert result.exit_code == 1
    assert "nothing to change: pass --url" in result.stderr


def test_rotate_secret_signs_with_both_during_the_grace(
    admin: Trove, hook: dict[str, Any], receiver: Any
) -> None:
    app, _ = receiver
    rotated = json_out(
        admin("webhooks", "rotate-secret", hook["webhook_id"], "--grace", "1h", "--json")
    )
    assert rotated["signing_secret"] != hook["signing_secret"]
    assert rotated["previous_expires_at"]
    app.use_secret(rotated["signing_secret"])
    assert admin("webhooks", "test", hook["webhook_id"]).exit_code == 0
    app.use_secret(hook["signing_secret"])
    assert admin("webhooks", "test", hook["webhook_id"]).exit_code == 0


def test_a_malformed_grace_is_a_usage_error(admin: Trove, hook: dict[str, Any]) -> None:
    result = admin("webhooks", "rotate-secret", hook["webhook_id"], "--grace", "soon")
    assert result.exit_code == 2
    assert "Invalid value for --grace" in result.stderr


def test_a_grace_too_long_to_count_is_a_usage_error(admin: Trove, hook: dict[str, Any]) -> None:
    result = admin("webhooks", "rotate-secret", hook["webhook_id"], "--grace", "99999999999d")
    assert result.exit_code == 2
    assert "Invalid value for --grace" in result.stderr


def test_delete_json_says_what_was_deleted(admin: Trove, hook: dict[str, Any]) -> None:
    deleted = json_out(admin("webhooks", "delete", hook["webhook_id"], "-y", "--json"))
    assert deleted == {"webhook_id": hook["webhook_id"], "deleted": True}
    assert hook["webhook_id"] not in admin("webhooks", "list").stdout


def test_unknown_webhooks_are_not_found(admin: Trove) -> None:
    for args in (["delete", "wh-000000000000", "-y"], ["test", "wh-000000000000"]):
        result = admin("webhooks", *args)
        assert (result.exit_code, result.stderr) == (
            1,
            "error: webhook not found: wh-000000000000\n",
        )


def test_deliveries_retry_and_replay(
    admin: Trove, hook: dict[str, Any], receiver: Any, client: Any
) -> None:
    app, _ = receiver
    app.status = 500
    client.write("workspace/a.txt", "a")

    def attempts() -> list[dict[str, Any]]:
        page = json_out(admin("webhooks", "deliveries", hook["webhook_id"], "--json"))
        return [d for d in page["deliveries"] if d["status"] == 500]

    wait_for(lambda: len(attempts()) == 4)  # the first attempt and three quick retries
    failed = attempts()[0]
    assert (failed["ok"], failed["status"], failed["event_type"]) == (False, 500, "file.written")
    table = admin("webhooks", "deliveries", hook["webhook_id"]).stdout.splitlines()
    assert table[0].split()[:4] == ["DELIVERY", "ID", "EVENT", "ID"]
    assert "✗ 500" in table[1]

    app.status = 204
    before = len(app.receipts)
    retried = admin("webhooks", "retry", hook["webhook_id"], failed["delivery_id"])
    assert retried.stdout.startswith(f"queued {failed['event_id']} (file.written) again")
    wait_for(lambda: len(app.receipts) > before)
    wait_for(lambda: "✓ 204" in admin("webhooks", "deliveries", hook["webhook_id"]).stdout)

    before = len(app.receipts)
    replayed = admin(
        "webhooks", "replay", hook["webhook_id"], "--since", "1h", "-t", "file.written"
    )
    assert replayed.stdout == f"queued 1 events for {hook['webhook_id']}\n"
    wait_for(lambda: len(app.receipts) > before)
    assert app.receipts[-1].event_id == failed["event_id"]


def test_replay_needs_a_since(admin: Trove, hook: dict[str, Any]) -> None:
    result = admin("webhooks", "replay", hook["webhook_id"])
    assert result.exit_code == 2
    assert "Missing option '--since'" in result.stderr
