"""Where ``listen`` resumes: one file per profile and target, replaced atomically."""

from __future__ import annotations

import json
from pathlib import Path

from trove_cli.config import Profile
from trove_cli.cursors import CursorStore

PROFILE = Profile(name="default", api_key="k", workspace_id="ws-1", base_url="http://s")


def test_a_saved_cursor_is_read_back_by_a_new_store(tmp_path: Path) -> None:
    CursorStore(PROFILE, "http://localhost:8000/a", tmp_path).save("41")
    assert CursorStore(PROFILE, "http://localhost:8000/a", tmp_path).load() == "41"


def test_each_target_has_its_own_cursor(tmp_path: Path) -> None:
    CursorStore(PROFILE, "http://localhost:8000/a", tmp_path).save("41")
    assert CursorStore(PROFILE, "http://localhost:8000/b", tmp_path).load() is None


def test_each_profile_has_its_own_cursor(tmp_path: Path) -> None:
    other = Profile(name="staging", api_key="k", workspace_id="ws-1", base_url="http://s")
    CursorStore(PROFILE, "http://localhost:8000/a", tmp_path).save("41")
    assert CursorStore(other, "http://localhost:8000/a", tmp_path).load() is None


def test_the_file_says_what_it_belongs_to(tmp_path: Path) -> None:
    store = CursorStore(PROFILE, "http://localhost:8000/a", tmp_path)
    store.save("7")
    assert json.loads(store.path.read_text()) == {
        "profile": "default",
        "workspace_id": "ws-1",
        "target": "http://localhost:8000/a",
        "cursor": "7",
    }
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]


def test_a_corrupt_file_means_no_cursor(tmp_path: Path) -> None:
    store = CursorStore(PROFILE, "http://localhost:8000/a", tmp_path)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{")
    assert store.load() is None


def test_clear_forgets_the_cursor(tmp_path: Path) -> None:
    store = CursorStore(PROFILE, "http://localhost:8000/a", tmp_path)
    store.save("7")
    store.clear()
    assert CursorStore(PROFILE, "http://localhost:8000/a", tmp_path).load() is None
