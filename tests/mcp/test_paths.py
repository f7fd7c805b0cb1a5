"""Tool paths: every spelling of a workspace file is accepted, nothing outside it is."""

from __future__ import annotations

import pytest

from trove_mcp.paths import PathError, workspace_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("workspace/notes.md", "workspace/notes.md"),
        ("notes.md", "workspace/notes.md"),
        ("/trove/workspace/notes.md", "workspace/notes.md"),
        ("/workspace/notes.md", "workspace/notes.md"),
        ("workspace/a/../b.txt", "workspace/b.txt"),
        ("./a//b.txt", "workspace/a/b.txt"),
        ("workspace/.trove/agent.md", "workspace/.trove/agent.md"),
        (".trove/init.sh", "workspace/.trove/init.sh"),
        ("workspace/dir/", "workspace/dir"),
        ("workspace/with space/é.txt", "workspace/with space/é.txt"),
        ("~draft.md", "workspace/~draft.md"),
    ],
)
def test_spellings_of_a_workspace_file(given: str, expected: str) -> None:
    assert workspace_path(given) == expected


@pytest.mark.parametrize("given", ["workspace", "workspace/", ".", "/trove/workspace", ""])
def test_the_workspace_root_is_only_a_directory_to_list(given: str) -> None:
    if given:
        assert workspace_path(given, allow_root=True) == "workspace/"
    with pytest.raises(PathError):
        workspace_path(given)


@pytest.mark.parametrize(
    "given",
    [
        "../secret",
        "workspace/../trove.db",
        "workspace/a/../../x",
        "../other-namespace/workspace/x",
        "/etc/passwd",
        "/trove/other",
        "~/x",
        "~",
    ],
)
def test_paths_outside_the_workspace_are_refused(given: str) -> None:
    with pytest.raises(PathError, match="outside"):
        workspace_path(given)


def test_control_characters_are_refused() -> None:
    with pytest.raises(PathError, match="control characters"):
        workspace_path("workspace/a\x00b")
