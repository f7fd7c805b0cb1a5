"""An operator's view: an unscoped workspace key walks every namespace.

TROVE_API_KEY=<unscoped workspace key> python examples/sessions/dashboard.py
"""

from __future__ import annotations

import os

from trove_sdk import TroveClient


def main() -> None:
    # The namespace here only matters for per-namespace calls; list_namespaces is workspace-wide.
    with TroveClient.from_env(os.environ.get("TROVE_NAMESPACE") or "default") as trove:
        namespaces = trove.list_namespaces()
        print(f"{len(namespaces)} namespaces")
        for ns in namespaces:
            print(f"- {ns.name}: {ns.file_count} files, {ns.size_bytes} bytes")
            with TroveClient.from_env(ns.name) as inside:
                files = [f for f in inside.list_dir(recursive=True) if not f.is_dir]
                for info in sorted(files, key=lambda f: f.modified_at, reverse=True)[:3]:
                    print(f"    {info.path} ({info.size_bytes} B, {info.modified_at})")


if __name__ == "__main__":
    main()
