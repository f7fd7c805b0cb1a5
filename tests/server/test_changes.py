"""``changes``: the scan before and after a command that finds the files it changed (D8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from trove_server.changes import diff, scan
from trove_server.storage import NamespaceDir


def test_a_scan_of_a_tree_wider_than_the_descriptor_limit_sees_every_file(tmp_path):
    """Directories it could not open would make their files look deleted."""
    for i in range(300):
        (tmp_path / "ns" / "workspace" / f"d{i}").mkdir(parents=True)
        (tmp_path / "ns" / "workspace" / f"d{i}" / "f").write_text("x")
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from trove_server.changes import scan
        from trove_server.storage import NamespaceDir
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        state = scan(NamespaceDir(Path({str(tmp_path / "ns")!r})), 5000)
        print("skipped" if state is None else len(state))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "300"


def test_a_scan_over_the_limit_is_skipped(tmp_path):
    (tmp_path / "ns" / "workspace").mkdir(parents=True)
    for i in range(6):
        (tmp_path / "ns" / "workspace" / f"f{i}").write_text("x")
    assert scan(NamespaceDir(tmp_path / "ns"), 5) is None


def test_diff_reports_written_and_deleted_files(tmp_path):
    namespace = NamespaceDir(tmp_path / "ns")
    (tmp_path / "ns" / "workspace" / "sub").mkdir(parents=True)
    (tmp_path / "ns" / "workspace" / "sub" / "gone").write_text("x")
    before = scan(namespace, 100)
    (tmp_path / "ns" / "workspace" / "sub" / "gone").unlink()
    (tmp_path / "ns" / "workspace" / "sub" / "new").write_text("abc")
    changes = diff(before, scan(namespace, 100))
    assert (changes.written, changes.deleted) == ([("sub/new", 3)], ["sub/gone"])
