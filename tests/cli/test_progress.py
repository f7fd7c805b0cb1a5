"""The transfer bar: only on a terminal, only past the threshold; uploads still stream."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from trove_cli.output import Stream
from trove_cli.progress import ProgressReader, transfer_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    # Inside the test body: pytest re-installs its own capture between setup and call.
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    return screen


def test_no_bar_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with transfer_progress(Stream("stderr"), "put x") as progress:
        assert progress is None


def test_small_transfers_draw_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = on_terminal(monkeypatch)
    with transfer_progress(Stream("stderr"), "put x") as progress:
        assert progress is not None
        progress(0, 1000)
        progress(1000, 1000)
    assert terminal.getvalue() == ""


def test_big_transfers_draw_a_bar_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = on_terminal(monkeypatch)
    with transfer_progress(Stream("stderr"), "put big.bin", threshold=100) as progress:
        assert progress is not None
        progress(0, 1000)
        progress(1000, 1000)
    assert "put big.bin" in terminal.getvalue()


def test_a_download_of_unknown_size_gets_a_bar_once_it_passes_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = on_terminal(monkeypatch)
    with transfer_progress(Stream("stderr"), "get x", threshold=100) as progress:
        assert progress is not None
        progress(50, None)
        assert terminal.getvalue() == ""
        progress(500, None)
    assert "get x" in terminal.getvalue()


def test_the_reader_reports_progress_and_keeps_the_file_seekable(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 10)
    seen: list[tuple[int, int | None]] = []
    with path.open("rb") as handle:
        reader = ProgressReader(handle, lambda done, total: seen.append((done, total)), 10)
        assert reader.read(4) == b"xxxx"
        assert reader.read() == b"xxxxxx"
        assert reader.fileno() == handle.fileno()
        reader.seek(0)
        assert reader.tell() == 0
    assert seen == [(4, 10), (10, 10)]
