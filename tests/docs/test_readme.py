"""Every code block in the README runs, against a real local server, and prints what it claims.

Python blocks run as scripts with the ``TROVE_*`` variables a reader would export; a
``print(...)  # text`` line must print ``text``. Shell blocks run line by line with CLI
profiles named as ``trove dev`` names them. A block may be skipped only with a
``<!-- readme-test: skip — reason -->`` line naming where it is tested instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!-- readme-test: skip — (.+?) -->\s*$")


@dataclass
class Block:
    line: int
    lang: str
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.lang}@L{self.line}"


def blocks() -> list[Block]:
    text = README.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        line = text[: match.start()].count("\n") + 1
        found.append(Block(line, match.group(1), match.group(2), skip.group(1) if skip else None))
    return found


RUNNABLE = [b for b in blocks() if b.skip_reason is None and b.lang in ("python", "bash")]


def test_the_readme_has_runnable_python_and_shell_blocks() -> None:
    assert sum(b.lang == "python" for b in RUNNABLE) >= 8
    assert sum(b.lang == "bash" for b in RUNNABLE) >= 1


@pytest.mark.parametrize("block", [b for b in blocks() if b.skip_reason], ids=lambda b: b.id)
def test_a_skipped_block_says_where_it_is_tested(block: Block) -> None:
    assert block.skip_reason
    for path in re.findall(r"tests/[\w/]+\.py|tests/\w+", block.skip_reason):
        assert (ROOT / path).exists(), f"{block.id} points at {path}, which does not exist"


def test_every_extra_the_install_lines_name_exists() -> None:
    from importlib.metadata import metadata

    extras = set(metadata("trove-sdk").get_all("Provides-Extra") or ())
    named = set()
    for block in blocks():
        for group in re.findall(r"trove-sdk\[([\w,]+)\]", block.code):
            named.update(group.split(","))
    assert named and named <= extras, named - extras


def test_every_unfenced_block_language_is_known() -> None:
    assert {b.lang for b in blocks()} <= {"python", "bash", ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from trove_server.testing import run_server

    with run_server(tmp_path_factory.mktemp("readme")) as handle:
        yield handle


@pytest.fixture(scope="module")
def reader_env(server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a reader has after ``trove dev``: exported variables and the two CLI profiles."""
    creds = server.create_workspace("readme")
    home = tmp_path_factory.mktemp("trove-home")
    profile = {
        "api_key": creds.api_key,
        "workspace_id": creds.workspace_id,
        "base_url": server.base_url,
    }
    config = {
        "default_profile": "local",
        "profiles": {
            "local": {**profile, "namespace": "alice"},
            "local-admin": {**profile, "api_key": creds.admin_key},
        },
    }
    (home / "config.json").write_text(json.dumps(config))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TROVE_") or k.startswith("TROVE_TEST_")
    }
    env.update(
        TROVE_HOME=str(home),
        TROVE_BASE_URL=server.base_url,
        TROVE_API_KEY=creds.api_key,
        TROVE_ADMIN_KEY=creds.admin_key,
        TROVE_WORKSPACE_ID=creds.workspace_id,
        TROVE_WEBHOOK_SECRET="trove-whsec-readme0123456789abcdef",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
    )
    return env


def _expected_prints(code: str) -> list[str]:
    """The ``# text`` promised after each ``print(...)`` line."""
    promised = []
    for line in code.splitlines():
        if "print(" in line and "  # " in line:
            promised.append(line.split("  # ", 1)[1].strip())
    return promised


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang == "python"], ids=lambda b: b.id)
def test_python_block_runs_and_prints_what_it_says(
    block: Block, reader_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code)
    env = {
        k: v
        for k, v in reader_env.items()
        if k != "TROVE_WORKSPACE_ID" or "from_env()" in block.code
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"README line {block.line}:\n{result.stdout}\n{result.stderr}"
    for text in _expected_prints(block.code):
        assert text in result.stdout, (
            f"README line {block.line} promised {text!r}; got:\n{result.stdout}"
        )


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang == "bash"], ids=lambda b: b.id)
def test_shell_block_runs_line_by_line(
    block: Block, reader_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in reader_env.items() if k not in ("TROVE_API_KEY", "TROVE_WORKSPACE_ID")}
    # A home of its own, where Cursor is installed: `trove mcp install` writes there.
    env["HOME"] = str(tmp_path / "home")
    (tmp_path / "home" / ".cursor").mkdir(parents=True)
    for line in block.code.splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command:
            continue
        result = subprocess.run(
            ["bash", "-c", command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (
            f"README line {block.line}: {command}\n{result.stdout}\n{result.stderr}"
        )
