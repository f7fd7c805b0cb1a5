"""Uploads and downloads stream: memory does not grow with the file."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from trove_sdk import AsyncTroveClient, TroveClient, TroveConnectionError, TroveError

BASE = "https://api.test"
MiB = 1 << 20


class GeneratedFile(io.RawIOBase):
    """A seekable file of ``size`` bytes that exists nowhere; records the largest read."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.largest_read = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {
            io.SEEK_SET: offset,
            io.SEEK_CUR: self.pos + offset,
            io.SEEK_END: self.size + offset,
        }[whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n < 0 else min(n, self.size - self.pos)
        self.largest_read = max(self.largest_read, n)
        self.pos += n
        return b"x" * n


def _count_body(request: httpx.Request) -> int:
    # (respx buffers the body before a side effect sees it, so the chunking itself is
    # asserted on the source: ``largest_read``.)
    return sum(len(chunk) for chunk in request.stream)  # type: ignore[union-attr]


def test_a_100_mib_upload_is_sent_in_chunks_never_read_whole() -> None:
    source = GeneratedFile(100 * MiB)
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["length"] = request.headers["content-length"]
        seen["total"] = _count_body(request)
        return httpx.Response(200, json={"path": "workspace/big.bin", "size_bytes": 100 * MiB})

    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.put("/files/big.bin").mock(side_effect=handler)
        result = client.upload("big.bin", source)
    assert result.size_bytes == 100 * MiB
    assert seen["length"] == str(100 * MiB)
    assert seen["total"] == 100 * MiB
    assert source.largest_read <= MiB


def test_an_upload_from_a_file_opened_in_text_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("hi")
    with (
        TroveClient("k", "ns", base_url=BASE) as client,
        path.open("r") as handle,
        pytest.raises(TypeError, match="binary mode"),
    ):
        client.upload("t.txt", handle)  # type: ignore[arg-type]


async def test_the_async_client_streams_uploads_too() -> None:
    source = GeneratedFile(8 * MiB)
    totals: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        total = 0
        async for chunk in request.stream:  # type: ignore[union-attr]
            total += len(chunk)
        totals.append(total)
        return httpx.Response(200, json={"path": "workspace/b", "size_bytes": total})

    async with AsyncTroveClient("k", "ns", base_url=BASE) as client:
        with respx.mock(base_url=BASE) as router:
            router.put("/files/b").mock(side_effect=handler)
            await client.upload("b", source)
    assert totals == [8 * MiB]
    assert source.largest_read <= MiB


def _download_response(size: int, *, truncated: bool = False) -> httpx.Response:
    headers = {"X-Trove-Size": str(size)}
    if truncated:
        headers["X-Trove-Truncated"] = "1"
    return httpx.Response(200, content=b"y" * size, headers=headers)


def test_download_writes_the_file_and_reports_progress(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    progress: list[tuple[int, int | None]] = []
    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.get("/files/data/out.bin").mock(return_value=_download_response(3 * MiB))
        result = client.download(
            "workspace/data/out.bin", dest, progress=lambda d, t: progress.append((d, t))
        )
    assert dest.read_bytes() == b"y" * (3 * MiB)
    assert (result.bytes_written, result.size_bytes, result.truncated) == (3 * MiB, 3 * MiB, False)
    assert progress[0] == (0, 3 * MiB) and progress[-1] == (3 * MiB, 3 * MiB)
    assert list(tmp_path.iterdir()) == [dest]


def test_download_reports_server_truncation(tmp_path: Path) -> None:
    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.get("/files/big").mock(return_value=_download_response(10, truncated=True))
        assert client.download("big", tmp_path / "big").truncated


def test_a_failed_download_leaves_neither_the_destination_nor_a_partial_file(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"previous")

    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"partial"
            raise httpx.ReadError("connection reset")

    with (
        respx.mock(base_url=BASE) as router,
        TroveClient("k", "ns", base_url=BASE, max_retries=0) as client,
    ):
        router.get("/files/out.bin").mock(return_value=httpx.Response(200, stream=Broken()))
        with pytest.raises(TroveConnectionError):
            client.download("out.bin", dest)
    assert dest.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [dest]


def test_download_into_an_open_file_object() -> None:
    sink = io.BytesIO()
    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.get("/files/a").mock(return_value=_download_response(5))
        client.download("a", sink)
    assert sink.getvalue() == b"yyyyy"


async def test_async_download(tmp_path: Path) -> None:
    dest = tmp_path / "a.bin"
    async with AsyncTroveClient("k", "ns", base_url=BASE) as client:
        with respx.mock(base_url=BASE) as router:
            router.get("/files/a.bin").mock(return_value=_download_response(2 * MiB))
            result = await client.download("a.bin", dest)
    assert result.bytes_written == 2 * MiB == dest.stat().st_size


def test_two_downloads_to_one_destination_do_not_share_a_temp_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    started = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def wait_for_the_other(done: int, total: int | None) -> None:
        if done == 0:  # both temp files are open before either download finishes
            started.wait()

    def download(client: TroveClient) -> None:
        try:
            client.download("a", dest, progress=wait_for_the_other)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.get("/files/a").mock(side_effect=lambda _: _download_response(MiB))
        threads = [threading.Thread(target=download, args=(client,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert dest.read_bytes() == b"y" * MiB
    assert list(tmp_path.iterdir()) == [dest]


def test_a_download_whose_final_rename_fails_leaves_no_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"

    def destination_becomes_a_folder(done: int, total: int | None) -> None:
        if done == total:
            dest.mkdir()

    with respx.mock(base_url=BASE) as router, TroveClient("k", "ns", base_url=BASE) as client:
        router.get("/files/a").mock(return_value=_download_response(10))
        with pytest.raises(IsADirectoryError):
            client.download("a", dest, progress=destination_becomes_a_folder)
    assert list(tmp_path.iterdir()) == [dest]


@pytest.mark.parametrize(
    ("dest", "error", "message"),
    [
        (lambda tmp: tmp, IsADirectoryError, "is a directory"),
        (lambda tmp: tmp / "missing" / "out.bin", FileNotFoundError, "does not exist"),
        (lambda tmp: io.StringIO(), TypeError, "binary mode"),
    ],
)
def test_a_download_destination_that_cannot_work_is_refused_before_the_request(
    tmp_path: Path, dest: Any, error: type[Exception], message: str
) -> None:
    with (
        respx.mock(base_url=BASE, assert_all_called=False) as router,
        TroveClient("k", "ns", base_url=BASE) as client,
    ):
        route = router.get("/files/a").mock(return_value=_download_response(10))
        with pytest.raises(error, match=message):
            client.download("a", dest(tmp_path))
        assert route.call_count == 0


class ResizedWhileRead(io.FileIO):
    """A real file whose size changes (by ``change`` bytes) after the first read."""

    def __init__(self, path: Path, change: int) -> None:
        super().__init__(path, "rb")
        self.change, self.reads = change, 0

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if self.reads == 0:
            os.truncate(self.name, os.path.getsize(self.name) + self.change)
        self.reads += 1
        return chunk


def test_a_file_that_shrinks_during_upload_raises_a_trove_error(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"x" * (3 * MiB))
    with (
        respx.mock(base_url=BASE, assert_all_called=False) as router,
        TroveClient("k", "ns", base_url=BASE, max_retries=0) as client,
        ResizedWhileRead(path, -2 * MiB) as source,
    ):
        router.put("/files/log.txt").respond(200, json={"path": "workspace/log.txt"})
        with pytest.raises(TroveError, match="shrank while it was uploaded"):
            client.upload("log.txt", source)
