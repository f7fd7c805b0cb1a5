"""The relay behind ``listen``: every event lands, in order per namespace, and the saved
resume point never passes an event that is not finished."""

from __future__ import annotations

import asyncio
import json

from tests.cli.receiver import Receipt, RecordingReceiver, serve
from trove_cli.forwarding import Forwarder
from trove_cli.live import LiveEvent
from trove_cli.relay import Relay, RelayStats, Watermark
from trove_sdk import parse_event, sample_event

SECRET = "trove-whsec-" + "2" * 48


def live(namespace: str, cursor: int | None) -> LiveEvent:
    envelope = sample_event("file.written", namespace=namespace)
    return LiveEvent(
        parse_event(envelope),
        json.dumps(envelope, separators=(",", ":")),
        None if cursor is None else str(cursor),
    )


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


class Run:
    """A relay over a real receiver, collecting what it reports."""

    def __init__(self, url: str, concurrency: int = 4) -> None:
        self.results: list[tuple[str, int | None, int]] = []
        self.retries: list[str] = []
        self.commits: list[str] = []
        self.relay = Relay(
            Forwarder(url, SECRET),
            concurrency=concurrency,
            on_result=lambda item, outcome, attempts: self.results.append(
                (item.event.id, outcome.status, attempts)
            ),
            on_retry=lambda item, outcome, attempt, delay: self.retries.append(item.event.id),
            on_commit=self.commits.append,
            sleep=no_wait,
        )

    async def feed(self, items: list[LiveEvent]) -> None:
        for item in items:
            await self.relay.submit(item)
        while self.relay.stats.done < len(items):
            self.relay.progress.clear()
            await asyncio.wait_for(self.relay.progress.wait(), 10)
        await self.relay.aclose()
        await self.relay.forwarder.aclose()


def test_the_watermark_advances_only_over_a_finished_prefix() -> None:
    mark = Watermark()
    tickets = [mark.add(c) for c in ("1", "2", None, "4")]
    assert mark.finish(tickets[1]) is None
    assert mark.finish(tickets[0]) == "2"
    assert mark.finish(tickets[3]) is None
    assert mark.finish(tickets[2]) == "4"
    assert mark.outstanding == 0


def test_events_without_a_cursor_never_move_the_watermark() -> None:
    mark = Watermark()
    assert mark.finish(mark.add(None)) is None
    assert mark.cursor is None


def test_the_summary_reports_counts_and_median_latency() -> None:
    stats = RelayStats(forwarded=3, failed=1, retried=2, latencies_ms=[1.0, 2.0, 30.0])
    assert stats.summary() == "forwarded 3, failed 1, retried 2, latency p50 2ms"


async def test_failed_sends_are_retried_until_they_land_in_namespace_order() -> None:
    receiver = RecordingReceiver(SECRET, decide=lambda r, a: 503 if a <= 2 else 200)
    items = [live(ns, i) for i, ns in enumerate(["a", "b", "c"] * 10)]
    with serve(receiver) as url:
        run = Run(url)
        await run.feed(items)
    assert run.relay.stats.forwarded == 30
    assert run.relay.stats.retried == 60
    for ns in "abc":
        sent = [i.event.id for i in items if i.event.namespace == ns]
        arrived = list(dict.fromkeys(receiver.ids(ns)))
        assert arrived == sent
    assert run.commits[-1] == "29"


async def test_a_refusing_receiver_fails_that_event_and_the_lane_moves_on() -> None:
    items = [live("a", i) for i in range(3)]
    refused = items[1].event.id
    receiver = RecordingReceiver(SECRET, decide=lambda r, a: 422 if r.event_id == refused else 200)
    with serve(receiver) as url:
        run = Run(url)
        await run.feed(items)
    assert (run.relay.stats.forwarded, run.relay.stats.failed) == (2, 1)
    assert (refused, 422, 1) in run.results
    assert receiver.ids("a") == [i.event.id for i in items]
    assert run.commits[-1] == "2"


async def test_a_stuck_namespace_does_not_hold_back_the_others() -> None:
    release = asyncio.Event()
    stuck = live("slow", 0)
    others = [live("fast", i) for i in range(1, 6)]

    def decide(receipt: Receipt, attempt: int) -> int:
        if receipt.event_id == stuck.event.id and not release.is_set():
            return 503
        return 200

    receiver = RecordingReceiver(SECRET, decide=decide)
    with serve(receiver) as url:
        run = Run(url)
        relay = run.relay
        for item in [stuck, *others]:
            await relay.submit(item)
        while relay.stats.forwarded < 5:
            relay.progress.clear()
            await asyncio.wait_for(relay.progress.wait(), 10)
        assert stuck.event.id not in [r[0] for r in run.results]
        assert run.commits == []  # the first event is unfinished: no resume point moves past it
        release.set()
        while relay.stats.done < 6:
            relay.progress.clear()
            await asyncio.wait_for(relay.progress.wait(), 10)
        await relay.aclose()
        await relay.forwarder.aclose()
    assert run.commits[-1] == "5"
