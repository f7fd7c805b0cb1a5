"""``trove webhooks trigger``: signed samples of every type reach the receiver kit, which
verifies them, and its dedupe absorbs ``--duplicates``. No Trove server is involved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.cli.receiver import free_port, serve
from trove_cli.main import cli
from trove_sdk import EVENT_TYPES
from trove_webhooks import WebhookRouter, create_app

SECRET = "trove-whsec-" + "3" * 48


class Kit:
    """A ``trove_webhooks`` receiver app, served for real, recording handled events."""

    def __init__(self) -> None:
        self.handled: list[Any] = []
        router = WebhookRouter()
        router.on_any(self.handled.append)
        self.app = create_app(router, secret=SECRET, store="memory://")


@pytest.fixture
def kit() -> Iterator[tuple[Kit, str]]:
    receiver = Kit()
    with serve(receiver.app, lifespan="on") as url:
        yield receiver, url + "/"


def trigger(*args: str) -> Result:
    return CliRunner().invoke(cli, ["webhooks", "trigger", *args])


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_is_verified_and_handled_by_the_receiver_kit(
    kit: tuple[Kit, str], event_type: str, trove_home: str
) -> None:
    receiver, url = kit
    result = trigger(event_type, "--forward-to", url, "--secret", SECRET)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"✓ {event_type}")
    assert '{"status": "processed"}' in result.stdout or '"processed"' in result.stdout
    [event] = receiver.handled
    assert event.type == event_type
    assert isinstance(event, EVENT_TYPES[event_type])


def test_duplicates_are_absorbed_by_the_receivers_dedupe(
    kit: tuple[Kit, str], trove_home: str
) -> None:
    receiver, url = kit
    result = trigger(
        "file.written",
        "--forward-to",
        url,
        "--secret",
        SECRET,
        "--repeat",
        "3",
        "--duplicates",
        "1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    sent = lines(result)
    assert [s["duplicate"] for s in sent] == [False, True] * 3
    assert all(s["ok"] for s in sent)
    assert [json.loads(s["response"])["status"] for s in sent] == ["processed", "duplicate"] * 3
    assert len(receiver.handled) == 3
    assert len({e.id for e in receiver.handled}) == 3


def test_data_overrides_the_sample_and_namespace_sets_the_envelope(
    kit: tuple[Kit, str], trove_home: str
) -> None:
    receiver, url = kit
    result = trigger(
        "exec.completed",
        "--forward-to",
        url,
        "--secret",
        SECRET,
        "--data",
        '{"exit_code": 3, "command": "make test"}',
        "-n",
        "bob",
    )
    assert result.exit_code == 0, result.output
    [event] = receiver.handled
    assert (event.data.exit_code, event.data.command, event.namespace) == (3, "make test", "bob")


def test_a_skewed_signature_is_rejected_by_the_replay_window(
    kit: tuple[Kit, str], trove_home: str
) -> None:
    receiver, url = kit
    result = trigger("file.written", "--forward-to", url, "--secret", SECRET, "--skew", "-600")
    assert result.exit_code == 1
    assert result.stdout.startswith("✗ file.written")
    assert "→  400" in result.stdout
    assert receiver.handled == []


def test_a_wrong_secret_is_rejected(kit: tuple[Kit, str], trove_home: str) -> None:
    receiver, url = kit
    result = trigger("file.written", "--forward-to", url, "--secret", "trove-whsec-wrong")
    assert result.exit_code == 1
    assert receiver.handled == []


def test_without_a_secret_or_profile_it_says_how_to_give_one(trove_home: str) -> None:
    result = trigger("file.written")
    assert result.exit_code == 1
    assert "no signing secret: pass --secret" in result.stderr


def test_bad_json_data_is_a_usage_error_saying_where(trove_home: str) -> None:
    result = trigger("file.written", "--secret", SECRET, "--data", '{"path": ')
    assert result.exit_code == 2
    assert "Invalid value for --data: not valid JSON: Expecting value" in result.stderr


def test_data_that_is_not_an_object_is_refused(trove_home: str) -> None:
    result = trigger("file.written", "--secret", SECRET, "--data", "[1]")
    assert result.exit_code == 2
    assert "must be a JSON object, not list" in result.stderr


def test_data_of_the_wrong_type_is_refused_before_sending(trove_home: str) -> None:
    result = trigger("file.written", "--secret", SECRET, "--data", '{"size_bytes": "big"}')
    assert result.exit_code == 2
    assert "data.size_bytes must be an integer" in result.stderr


def test_a_misspelt_type_gets_a_suggestion(trove_home: str) -> None:
    result = trigger("file.writen", "--secret", SECRET)
    assert result.exit_code == 2
    assert "did you mean 'file.written'?" in result.stderr


def test_a_non_local_target_is_refused(trove_home: str) -> None:
    result = trigger("file.written", "--secret", SECRET, "--forward-to", "https://example.com/h")
    assert result.exit_code == 2
    assert "example.com is not this machine" in result.stderr


def test_a_header_value_http_cannot_carry_is_a_usage_error(trove_home: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = trigger("file.written", "--secret", SECRET, "--forward-to", url, "-H", "X-N: café")
    assert result.exit_code == 2
    assert "a header value must be printable ASCII" in result.stderr


def test_an_unreachable_receiver_exits_4(trove_home: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = trigger("file.written", "--secret", SECRET, "--forward-to", url)
    assert result.exit_code == 4
    assert f"could not reach {url}" in result.stderr


async def _html_error_page(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 502, "headers": []})
    await send({"type": "http.response.body", "body": b"<html>\n  <h1>Bad Gateway</h1>\n</html>\n"})


def test_a_multi_line_answer_is_shown_on_the_deliverys_one_line(trove_home: str) -> None:
    with serve(_html_error_page) as url:
        result = trigger("file.written", "--secret", SECRET, "--forward-to", url + "/")
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert "→  502  (" in line
    assert line.endswith("ms)  <html> <h1>Bad Gateway</h1> </html>")
