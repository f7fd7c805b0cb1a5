"""Data on stdout, everything else on stderr; colour only on a terminal without NO_COLOR."""

from __future__ import annotations

import io

import pytest

from trove_cli.output import Output, colour_enabled


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_is_on_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_enabled(Terminal())


def test_colour_is_off_for_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert not colour_enabled(io.StringIO())


def test_no_color_turns_colour_off_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(Terminal())


def test_styles_are_escape_codes_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal, pipe = Terminal(), io.StringIO()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr("sys.stderr", pipe)
    out = Output()
    out.result("wrote x")
    out.warn("careful")
    assert terminal.getvalue() == "\x1b[32mwrote x\x1b[0m\n"
    assert pipe.getvalue() == "careful\n"


def test_warnings_and_errors_go_to_stderr_and_data_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Output()
    out.json({"a": 1})
    out.warn("w")
    out.error("e")
    out.note("n")
    captured = capsys.readouterr()
    assert captured.out == '{"a": 1}\n'
    assert captured.err == "w\ne\nn\n"


def test_tables_size_columns_to_their_content(capsys: pytest.CaptureFixture[str]) -> None:
    Output().table(
        ["ID", "SIZE", "NAME"], [["a", "1B", "x"], ["long-id", "10.0KB", "y"]], right=(1,)
    )
    assert capsys.readouterr().out.splitlines() == [
        "ID         SIZE  NAME",
        "a            1B  x",
        "long-id  10.0KB  y",
    ]


def test_compact_json_has_no_spaces(capsys: pytest.CaptureFixture[str]) -> None:
    Output().json({"a": [1, 2]}, compact=True)
    assert capsys.readouterr().out == '{"a":[1,2]}\n'
