"""Signed deliveries to a local receiver: the target check, headers, signature, outcomes."""

from __future__ import annotations

import json

import click
import pytest

from tests.cli.receiver import RecordingReceiver, free_port, serve
from trove_cli.forwarding import Forwarder, Outcome, backoff, check_target, parse_headers
from trove_sdk import sample_event, verify_webhook

SECRET = "trove-whsec-" + "1" * 48


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/trove/events",
        "http://127.0.0.1:3000/",
        "https://127.9.9.9/x",
        "http://[::1]:8000/hooks",
        "http://app.localhost:8000/hooks",
    ],
)
def test_local_targets_are_accepted(url: str) -> None:
    assert check_target(url, allow_remote=False) == url


@pytest.mark.parametrize(
    "url", ["https://example.com/hooks", "http://10.0.0.5:8000/", "http://0.0.0.0/"]
)
def test_other_hosts_are_refused_naming_the_host(url: str) -> None:
    with pytest.raises(click.BadParameter, match="is not this machine"):
        check_target(url, allow_remote=False)


def test_allow_remote_lets_another_host_through() -> None:
    assert check_target("https://example.com/hooks", allow_remote=True)


@pytest.mark.parametrize("url", ["ftp://localhost/x", "localhost:8000", "http:///path"])
def test_a_target_must_be_an_http_url_with_a_host(url: str) -> None:
    with pytest.raises(click.BadParameter, match="not an http"):
        check_target(url, allow_remote=True)


def test_headers_are_name_colon_value() -> None:
    assert parse_headers(["X-Tenant: acme", "Authorization:Bearer t"]) == {
        "X-Tenant": "acme",
        "Authorization": "Bearer t",
    }


@pytest.mark.parametrize("raw", ["no-colon", ": value", "Bad Name: v", "X-Ü: v", "X(1): v"])
def test_malformed_headers_are_refused(raw: str) -> None:
    with pytest.raises(click.BadParameter, match="Name: value"):
        parse_headers([raw])


@pytest.mark.parametrize("raw", ["X-Name: café", "X-Name: a\x00b", "X-Name: a\rb", "X: \x7f"])
def test_header_values_that_http_cannot_carry_are_refused_before_sending(raw: str) -> None:
    with pytest.raises(click.BadParameter, match="printable ASCII"):
        parse_headers([raw])


def test_backoff_grows_to_a_cap() -> None:
    assert 0.075 <= backoff(1) <= 0.1
    assert 3.75 <= backoff(20) <= 5.0


def test_retry_after_wins_when_longer_but_is_capped() -> None:
    assert backoff(1, retry_after=2.0) == 2.0
    assert backoff(1, retry_after=3600.0) == 60.0


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (500, True),
        (503, True),
        (408, True),
        (409, True),
        (429, True),
        (400, False),
        (401, False),
        (404, False),
        (422, False),
    ],
)
def test_only_no_answer_5xx_and_busy_statuses_are_retried(
    status: int | None, retryable: bool
) -> None:
    assert Outcome(status, 1.0).retryable is retryable


async def test_a_delivery_carries_the_production_headers_and_a_valid_signature() -> None:
    receiver = RecordingReceiver(SECRET)
    envelope = sample_event("file.written")
    body = json.dumps(envelope, separators=(",", ":")).encode()
    with serve(receiver) as url:
        forwarder = Forwarder(url + "/hooks", SECRET, headers={"X-Tenant": "acme"})
        outcome = await forwarder.send(body, "file.written", envelope["id"], attempt=3)
        await forwarder.aclose()
    assert outcome.ok and outcome.status == 200
    [receipt] = receiver.receipts
    assert receipt.body == body
    headers = receipt.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("Trove-Webhooks/")
    assert headers["x-trove-event"] == "file.written"
    assert headers["x-trove-event-id"] == envelope["id"]
    assert headers["x-trove-delivery"].startswith("dlv-")
    assert headers["x-trove-attempt"] == "3"
    assert headers["x-tenant"] == "acme"
    verified = verify_webhook(
        secret=SECRET, body=body, signature_header=headers["x-trove-signature"]
    )
    assert verified.id == envelope["id"]


async def test_a_skewed_timestamp_is_refused_by_the_receiver() -> None:
    receiver = RecordingReceiver(SECRET)
    envelope = sample_event("file.written")
    body = json.dumps(envelope).encode()
    with serve(receiver) as url:
        forwarder = Forwarder(url, SECRET)
        outcome = await forwarder.send(body, "file.written", envelope["id"], skew=-600)
        await forwarder.aclose()
    assert outcome.status == 400 and not outcome.retryable
    assert receiver.rejected == ["tolerance"]


async def test_a_receiver_that_is_not_running_is_a_retryable_connection_error() -> None:
    forwarder = Forwarder(f"http://127.0.0.1:{free_port()}/", SECRET)
    outcome = await forwarder.send(b"{}", "file.written", "evt-1")
    await forwarder.aclose()
    assert (outcome.status, outcome.error, outcome.retryable) == (None, "connection refused", True)


def test_a_reply_is_one_line_cut_at_200_characters() -> None:
    assert (
        Outcome(502, 1.0, body="<html>\n  <h1>Bad</h1>\n</html>\n").reply
        == "<html> <h1>Bad</h1> </html>"
    )
    assert Outcome(500, 1.0, body="x" * 500).reply == "x" * 199 + "…"
    assert Outcome(204, 1.0).reply == ""
