"""The local Trove server: the whole HTTP API (``CONTRACT.md``) on one machine.

SQLite + a data directory, commands sandboxed with bubblewrap, an event log with a feed and a
resumable stream, signed webhook deliveries with retries, and device login. Run it with
``trove dev`` (a ready-made local stack), ``trove server`` or ``python -m trove_server``;
tests use ``trove_server.testing.run_server``.

Importing this package is cheap: Starlette and uvicorn load only when an app is built.
"""

from __future__ import annotations

from trove_server.settings import Settings

__all__ = ["Settings"]
