"""An inbox URL per backend: a SQLite file, and a fresh table in the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def drop_postgres_table(base: str, table: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_schema")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def inbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/inbox.db"
        return
    base = request.getfixturevalue("postgres_url")
    table = f"test_inbox_{uuid.uuid4().hex[:12]}"
    yield f"{base}?table={table}"
    drop_postgres_table(base, table)
