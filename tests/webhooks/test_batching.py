"""``LoopBatcher``: calls made in one turn of the event loop are sent as one batch."""

from __future__ import annotations

import asyncio

import pytest

from trove_webhooks._batching import LoopBatcher


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def send(self, items: list[int]) -> list[object]:
        self.batches.append(items)
        await asyncio.sleep(0)
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_calls_made_together_go_out_in_one_batch_with_their_own_results() -> None:
    sink = Recorder()
    batcher = LoopBatcher(sink.send)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert sink.batches == [[0, 1, 2, 3, 4]]


async def test_a_lone_call_goes_alone() -> None:
    sink = Recorder()
    batcher = LoopBatcher(sink.send)
    assert await batcher.submit(7) == 70
    assert await batcher.submit(8) == 80
    assert sink.batches == [[7], [8]]


async def test_an_error_for_one_item_fails_only_its_caller() -> None:
    batcher = LoopBatcher(Recorder().send)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(-1), return_exceptions=True)
    assert results[0] == 10
    assert isinstance(results[1], ValueError)


async def test_a_failed_send_fails_every_caller_in_the_batch() -> None:
    async def broken(items: list[int]) -> list[object]:
        raise ConnectionError("store gone")

    batcher = LoopBatcher(broken)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await batcher.submit(9)
