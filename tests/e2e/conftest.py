"""The published ``trove-sdk==0.7.6``, unmodified, in a virtual environment of its own.

Built once from PyPI with its ``[cli]`` extra (click, rich), so both its clients
(``test_published_sdk.py``) and its ``trove`` CLI (``test_published_cli.py``) run from the same
environment, and cached between runs under the temp directory. A cache built for another
requirement (before the extra was added, say) is rebuilt. In CI
(``TROVE_TEST_REQUIRE_SERVICES=1``) an environment that cannot be built fails the suite instead
of skipping it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import venv
from pathlib import Path

import pytest

PUBLISHED = "trove-sdk[cli]==0.7.6"
CACHE = Path(tempfile.gettempdir()) / "trove-test-venvs" / "trove-sdk-0.7.6"
REQUIRE_SERVICES = os.environ.get("TROVE_TEST_REQUIRE_SERVICES") == "1"
_MARKER = ".complete"


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _is_built(target: Path) -> bool:
    marker = target / _MARKER
    return marker.exists() and marker.read_text() == PUBLISHED


def _build(target: Path) -> None:
    """Create the venv next to ``target`` and move it into place only when complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="building-", dir=target.parent))
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(staging)
        subprocess.run(
            [str(_python(staging)), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", PUBLISHED],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        (staging / _MARKER).write_text(PUBLISHED)
        # venvs hard-code their path: build in place would be nicer, but a half-built cache
        # must never be mistaken for a good one, so staging is renamed — and its scripts
        # (the ``trove`` console script included) are run through ``python`` directly, which
        # does not care.
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def published_python() -> Path:
    """The interpreter of the environment holding ``trove-sdk[cli]==0.7.6`` from PyPI."""
    if not _is_built(CACHE):
        try:
            _build(CACHE)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            message = f"could not install {PUBLISHED} into a fresh venv: {detail[-2000:]}"
            if REQUIRE_SERVICES:
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return _python(CACHE)
