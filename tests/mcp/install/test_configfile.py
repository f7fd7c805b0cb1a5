"""Client config files: read leniently, refuse what is not ours to rewrite, write atomically."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from trove_mcp.install.configfile import ConfigFileError, read_config, write_config


def test_a_missing_file_reads_as_an_empty_object(tmp_path: Path) -> None:
    assert read_config(tmp_path / "none.json") == {}


def test_a_blank_file_reads_as_an_empty_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("  \n")
    assert read_config(path) == {}


def test_a_file_saved_with_a_byte_order_mark_reads_as_its_json(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b'\xef\xbb\xbf{"mcpServers": {"other": {"command": "npx"}}}')
    assert read_config(path) == {"mcpServers": {"other": {"command": "npx"}}}


def test_invalid_json_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n  // my servers\n  "mcpServers": {}\n}\n')
    with pytest.raises(ConfigFileError, match=r"not valid JSON \(line 2, column 3"):
        read_config(path)


@pytest.mark.parametrize(("text", "kind"), [("[]", "array"), ('"x"', "string"), ("3", "number")])
def test_json_that_is_not_an_object_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=f"holds a JSON {kind}, not an object"):
        read_config(path)


def test_a_new_file_is_created_with_its_parents_and_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.json"
    assert write_config(path, {"mcpServers": {}}) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == '{\n  "mcpServers": {}\n}\n'


def test_the_previous_file_is_kept_as_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"old": true}')
    backup = write_config(path, {"new": True})
    assert backup == tmp_path / "c.json.bak"
    assert backup.read_text() == '{"old": true}'
    assert json.loads(path.read_text()) == {"new": True}


@pytest.mark.parametrize(("before", "after"), [(0o644, 0o600), (0o640, 0o600), (0o600, 0o600)])
def test_a_rewritten_file_and_its_backup_are_readable_by_the_owner_only(
    tmp_path: Path, before: int, after: int
) -> None:
    """Clients create their configs 0644; once one holds an API key, others must not read it."""
    path = tmp_path / "c.json"
    path.write_text("{}")
    os.chmod(path, before)
    backup = write_config(path, {"mcpServers": {}})
    assert backup is not None
    assert stat.S_IMODE(path.stat().st_mode) == after
    assert stat.S_IMODE(backup.stat().st_mode) == after


def test_a_write_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_config(path, {})
    write_config(path, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "c.json.bak"]


def test_a_symlinked_config_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "mcp.json"
    target.parent.mkdir()
    target.write_text("{}")
    link = tmp_path / "mcp.json"
    link.symlink_to(target)
    write_config(link, {"mcpServers": {"x": {}}})
    assert link.is_symlink()
    assert json.loads(target.read_text()) == {"mcpServers": {"x": {}}}


def test_an_unwritable_directory_is_an_error_naming_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / ".cursor"
    blocker.write_text("a file where the directory should be")
    path = blocker / "mcp.json"
    with pytest.raises(
        ConfigFileError,
        match=r"cannot write .*\.cursor/mcp\.json: .*\.cursor is a file, not a directory",
    ):
        write_config(path, {})
    assert blocker.read_text() == "a file where the directory should be"


def test_non_ascii_text_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_config(path, {"note": "café ✓"})
    assert read_config(path) == {"note": "café ✓"}
    assert "café ✓" in path.read_text(encoding="utf-8")
