"""``storage.NamespaceDir``: what the namespaces listing measures."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_usage_counts_a_tree_wider_than_the_descriptor_limit(tmp_path):
    """A command can make thousands of directories; measuring them must not take a
    descriptor each (at the limit, every other request of the server fails too)."""
    for i in range(300):
        (tmp_path / "ns" / "workspace" / f"d{i}").mkdir(parents=True)
        (tmp_path / "ns" / "workspace" / f"d{i}" / "f").write_bytes(b"12")
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from trove_server.storage import NamespaceDir
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        files, size, _ = NamespaceDir(Path({str(tmp_path / "ns")!r})).usage()
        print(files, size)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["300", "600"]
