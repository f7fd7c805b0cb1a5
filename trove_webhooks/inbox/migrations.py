"""Versioned schema: each backend lists its migrations; a start applies the missing ones.

The applied versions live in ``<table>_schema``; a backend runs ``pending_migrations`` inside
one locked transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock), so several
processes starting together migrate once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["SCHEMA_TABLE_SUFFIX", "pending_migrations"]

SCHEMA_TABLE_SUFFIX = "_schema"


def pending_migrations(
    migrations: Sequence[Sequence[str]], current: int
) -> Iterator[tuple[int, Sequence[str]]]:
    """``(version, statements)`` for every version after ``current``."""
    if current > len(migrations):
        raise RuntimeError(
            f"the inbox schema is at version {current}, newer than this trove_webhooks knows "
            f"({len(migrations)}): upgrade trove_webhooks"
        )
    for version in range(current + 1, len(migrations) + 1):
        yield version, migrations[version - 1]
