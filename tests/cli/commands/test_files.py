"""``ls``, ``cat``, ``put``, ``get``, ``write``, ``rm`` against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Trove
from tests.cli.runner import TROVE, json_out
from trove_cli.config import Config
from trove_sdk import TroveClient

MIB = 1 << 20


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_write_then_cat_round_trips_text(trove: Trove) -> None:
    result = trove("write", "workspace/notes/plan.md", "# plan\n")
    assert (result.exit_code, result.stdout) == (0, "wrote workspace/notes/plan.md  (7B)\n")
    assert trove("cat", "workspace/notes/plan.md").stdout == "# plan\n"


def test_write_reads_stdin_when_asked(trove: Trove) -> None:
    assert trove("write", "piped.txt", "--stdin", input="from a pipe\n").exit_code == 0
    assert trove("cat", "workspace/piped.txt").stdout == "from a pipe\n"


def test_write_refuses_content_and_stdin_together(trove: Trove) -> None:
    result = trove("write", "a.txt", "x", "--stdin", input="y")
    assert result.exit_code == 1
    assert "pass CONTENT or --stdin, not both" in result.stderr


def test_write_without_content_says_how_to_give_it(trove: Trove) -> None:
    result = trove("write", "a.txt")
    assert result.exit_code == 1
    assert "missing CONTENT" in result.stderr


def test_write_json_reports_the_stored_path(trove: Trove) -> None:
    assert json_out(trove("write", "a.txt", "abc", "--json")) == {
        "path": "workspace/a.txt",
        "size_bytes": 3,
    }


def test_ls_lists_directories_first_with_a_slash(trove: Trove) -> None:
    trove("write", "workspace/b.txt", "b")
    trove("write", "workspace/dir/a.txt", "a")
    assert trove("ls").stdout == "dir/\nb.txt\n"


def test_ls_long_shows_size_time_and_name(trove: Trove) -> None:
    trove("write", "workspace/b.txt", "bb")
    [line] = trove("ls", "-l").stdout.splitlines()
    size, date, clock, name = line.split()
    assert (size, name) == ("2B", "b.txt")
    assert len(date) == 10 and len(clock) == 5


def test_ls_recursive_shows_paths_inside_workspace(trove: Trove) -> None:
    trove("write", "workspace/dir/sub/a.txt", "a")
    assert trove("ls", "-R").stdout == "dir/\ndir/sub/\ndir/sub/a.txt\n"


def test_ls_json_is_the_listing(trove: Trove) -> None:
    trove("write", "workspace/b.txt", "b")
    data = json_out(trove("ls", "--json"))
    assert data["truncated"] is False
    [entry] = data["entries"]
    assert (entry["name"], entry["path"], entry["is_dir"], entry["size_bytes"]) == (
        "b.txt",
        "workspace/b.txt",
        False,
        1,
    )


def test_ls_of_an_empty_namespace_says_so(trove: Trove) -> None:
    result = trove("ls")
    assert (result.exit_code, result.stdout) == (0, "(empty)\n")


def test_cat_refuses_a_binary_file_and_points_to_get(trove: Trove, here: Path) -> None:
    (here / "blob.bin").write_bytes(bytes(range(256)) * 4)
    trove("put", "blob.bin")
    result = trove("cat", "workspace/blob.bin")
    assert result.exit_code == 1
    assert "workspace/blob.bin is binary (1.0KB); use `trove get" in result.stderr


def test_cat_of_a_missing_file_is_a_404(trove: Trove) -> None:
    result = trove("cat", "workspace/missing.txt")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: HTTP 404 — ")
    assert "workspace/missing.txt" in result.stderr


def test_cat_notes_the_preview_cap_on_stderr(trove: Trove, here: Path) -> None:
    (here / "big.txt").write_text("x" * (MIB + 10))
    trove("put", "big.txt")
    result = trove("cat", "workspace/big.txt")
    assert result.exit_code == 0
    assert len(result.stdout) == MIB
    assert "truncated at the 1 MiB preview cap" in result.stderr


def test_put_defaults_to_the_basename(trove: Trove, here: Path) -> None:
    (here / "report.pdf").write_bytes(b"%PDF-1.4")
    result = trove("put", "report.pdf")
    assert result.stdout == "uploaded workspace/report.pdf  (8B)\n"


def test_put_into_a_directory_keeps_the_basename(trove: Trove, here: Path) -> None:
    (here / "report.pdf").write_bytes(b"%PDF")
    assert "workspace/docs/report.pdf" in trove("put", "report.pdf", "workspace/docs/").stdout


def test_put_of_a_missing_local_file_is_a_usage_error(trove: Trove, here: Path) -> None:
    result = trove("put", "nope.txt")
    assert result.exit_code == 2
    assert "'nope.txt' does not exist" in result.stderr


def test_put_to_the_workspace_root_itself_is_refused(trove: Trove, here: Path) -> None:
    (here / "a.txt").write_text("a")
    result = trove("put", "a.txt", "workspace")
    assert result.exit_code == 1
    assert "does not name a file inside workspace/" in result.stderr


def test_get_round_trips_bytes(trove: Trove, here: Path) -> None:
    payload = os.urandom(5000)
    (here / "in.bin").write_bytes(payload)
    trove("put", "in.bin", "workspace/data/out.bin")
    result = trove("get", "workspace/data/out.bin")
    assert result.stdout == "downloaded workspace/data/out.bin → out.bin  (4.9KB)\n"
    assert (here / "out.bin").read_bytes() == payload


def test_get_refuses_to_overwrite_without_force(trove: Trove, here: Path) -> None:
    trove("write", "workspace/a.txt", "new")
    (here / "a.txt").write_text("mine")
    result = trove("get", "workspace/a.txt")
    assert result.exit_code == 1
    assert "a.txt already exists; pass --force" in result.stderr
    assert (here / "a.txt").read_text() == "mine"
    assert trove("get", "workspace/a.txt", "--force").exit_code == 0
    assert (here / "a.txt").read_text() == "new"


def test_get_into_a_directory_keeps_the_basename(trove: Trove, here: Path) -> None:
    trove("write", "workspace/a.txt", "a")
    (here / "downloads").mkdir()
    assert trove("get", "workspace/a.txt", "downloads").exit_code == 0
    assert (here / "downloads" / "a.txt").read_text() == "a"


def test_get_into_a_new_directory_named_with_a_slash_keeps_the_basename(
    trove: Trove, here: Path
) -> None:
    trove("write", "workspace/a.txt", "a")
    result = trove("get", "workspace/a.txt", "reports/2026/")
    assert result.exit_code == 0, result.output
    assert (here / "reports" / "2026" / "a.txt").read_text() == "a"


def test_a_reader_that_stops_early_ends_trove_quietly(
    trove: Trove, client: TroveClient, trove_home: str
) -> None:
    """``trove get F --stdout | head -c 4``: no "BrokenPipeError" line, the shell's SIGPIPE
    status. The file is far bigger than any pipe buffer, so the reader's exit is noticed."""
    client.upload("workspace/big.bin", os.urandom(1024) * (16 * 1024))
    process = subprocess.Popen(
        [TROVE, "get", "workspace/big.bin", "--stdout"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert len(process.stdout.read(4)) == 4
    process.stdout.close()  # like `head -c 4` exiting
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_a_failed_get_removes_the_directories_it_made(trove: Trove, here: Path) -> None:
    result = trove("get", "workspace/missing.bin", "new/dir/")
    assert result.exit_code == 1
    assert list(here.iterdir()) == []


def test_get_stdout_writes_the_raw_bytes(trove: Trove, here: Path) -> None:
    payload = bytes(range(256))
    (here / "b.bin").write_bytes(payload)
    trove("put", "b.bin")
    result = trove("get", "workspace/b.bin", "--stdout")
    assert result.stdout_bytes == payload


def test_get_of_a_missing_file_leaves_nothing_behind(trove: Trove, here: Path) -> None:
    result = trove("get", "workspace/missing.bin")
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr
    assert list(here.iterdir()) == []


def test_rm_deletes_and_says_what(trove: Trove) -> None:
    trove("write", "workspace/a.txt", "a")
    result = trove("rm", "workspace/a.txt")
    assert result.stdout == "deleted workspace/a.txt\n"
    assert trove("ls").stdout == "(empty)\n"


def test_rm_of_several_paths_asks_first(trove: Trove) -> None:
    trove("write", "a.txt", "a")
    trove("write", "b.txt", "b")
    refused = trove("rm", "a.txt", "b.txt", input="n\n")
    assert refused.exit_code == 1
    assert trove("ls").stdout == "a.txt\nb.txt\n"
    assert trove("rm", "a.txt", "b.txt", "-y").exit_code == 0
    assert trove("ls").stdout == "(empty)\n"


def test_rm_warns_about_a_missing_path_and_carries_on(trove: Trove) -> None:
    trove("write", "b.txt", "b")
    result = trove("rm", "-y", "missing.txt", "b.txt")
    assert result.exit_code == 0
    assert result.stderr == "not found: missing.txt\n"
    assert result.stdout == "deleted workspace/b.txt\n"


@pytest.mark.slow
def test_put_and_get_of_100_mib_stream_with_bounded_memory(
    profiles: Config, trove_home: str, here: Path
) -> None:
    """The installed executable moves 100 MiB each way while its peak RSS stays far below
    the file's size (measured by a fresh parent, so nothing else is counted)."""
    import subprocess

    big = here / "big.bin"
    with big.open("wb") as handle:
        for _ in range(100):
            handle.write(os.urandom(MIB))

    def peak_rss_mib(*args: str) -> float:
        measure = (
            "import resource, subprocess, sys\n"
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
            "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run(
            [sys.executable, "-c", measure, TROVE, *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        code, kib = done.stdout.split()
        assert code == "0", done.stderr
        return int(kib) / 1024

    up = peak_rss_mib("put", str(big), "workspace/big.bin")
    down = peak_rss_mib("get", "workspace/big.bin", str(here / "copy.bin"))
    assert (here / "copy.bin").stat().st_size == 100 * MIB
    with big.open("rb") as a, (here / "copy.bin").open("rb") as b:
        while chunk := a.read(MIB):
            assert chunk == b.read(MIB)
    print(f"peak RSS: put {up:.0f} MiB, get {down:.0f} MiB")
    assert up < 90, f"put peaked at {up:.0f} MiB"
    assert down < 90, f"get peaked at {down:.0f} MiB"


def test_the_namespace_flag_overrides_the_profile(
    trove: Trove, namespace: str, client: Any
) -> None:
    trove("write", "-n", namespace + "-other", "a.txt", "a")
    assert trove("ls").stdout == "(empty)\n"
    assert trove("ls", "-n", namespace + "-other").stdout == "a.txt\n"
