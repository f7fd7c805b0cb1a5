"""The published ``trove-sdk==0.7.6`` client, unmodified, against ``trove_server``.

``published_sdk_script.py`` runs in a separate environment holding that release from PyPI
(``published_python`` in ``conftest.py``) — every method of its four client classes, plus its
``verify_webhook`` on deliveries this server made — and the tests assert on the JSON report it
prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("published_sdk_script.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(published_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from trove_server.testing import run_server

    with run_server(tmp_path_factory.mktemp("published-sdk"), exec_timeout=1.5) as server:
        run = subprocess.run(
            [str(published_python), str(SCRIPT)],
            env={
                "PATH": os.environ.get("PATH", ""),
                "TROVE_BASE_URL": server.base_url,
                "TROVE_API_KEY": server.api_key,
                "TROVE_ADMIN_KEY": server.admin_key,
                "TROVE_WORKSPACE_ID": server.workspace_id,
            },
            cwd=tmp_path_factory.mktemp("published-sdk-cwd"),
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert run.returncode == 0, f"0.7.6 script failed:\n{run.stderr[-6000:]}"
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_the_script_ran_the_published_release_not_our_sdk(report, published_python):
    assert report["version"] == "0.7.6"
    assert str(published_python.parent.parent) in report["installed_in"]
    assert sys.prefix not in report["installed_in"]


def test_files_calls_work(report):
    assert report["write"] == ["workspace/notes/a.md", 5]
    assert report["read_text"] == "hello"
    assert report["read_text_file"] == "hello"
    assert report["read_file"]["encoding"] == "utf-8"
    assert report["read_file"]["truncated"] is False
    assert report["upload"] == ["workspace/bin/b.bin", 3]
    assert report["read_bytes"] == [0, 1, 255]
    assert report["read_bytes_full"] == [[0, 1, 255], False, 3]
    assert report["read_binary"] == [0, 1, 255]
    assert report["read_text_of_binary"] == ["TroveError", 415]
    assert report["list_dir"] == [["bin", True], ["notes", True]]
    assert report["list_dir_recursive"] == [
        ["workspace/bin", "workspace/bin/b.bin", "workspace/notes", "workspace/notes/a.md"],
        False,
    ]
    assert report["delete"] == "workspace/bin/b.bin"
    assert report["missing"] == ["TroveNotFoundError", 404]


def test_exec_calls_work(report):
    assert report["exec"] == "hi\n"
    assert report["exec_failing"] == "[exit 3]\noops\n"
    assert report["exec_silent"] == "(no output)"
    assert report["exec_detailed"] == [2, "out\n", "err\n", True]
    assert report["exec_stdin"] == "piped in"
    # 0.7.6 wraps chain steps in subshells, so the cd does not reach ls.
    assert report["exec_chain"] == "workspace\n"
    assert report["timeout"] == ["TroveTimeoutError", 408]


def test_init_script_calls_work(report):
    assert report["set_init"] == "workspace/.trove/init.sh"
    assert report["get_init"] == "export FROM_INIT=yes\n"
    assert report["init_sourced"] == "yes\n"
    assert report["clear_init"] == [True, False, None]


def test_snapshot_calls_work(report):
    assert report["create_snapshot"][1:] == ["compat", True]
    assert report["list_snapshots"] == [True]
    assert report["restore_snapshot"] == 2  # notes/a.md and bin/b.bin
    assert report["restored_text"] == "hello"
    assert report["list_after_delete"] == 0
    assert report["delete_missing_snapshot"] == ["TroveNotFoundError", 404]


def test_the_async_client_works(report):
    assert report["async_client"] == {
        "read_text": "async",
        "read": "async",
        "read_file": "utf-8",
        "read_bytes": [254],
        "read_bytes_full": 1,
        "list_dir": ["a.txt", "b.bin"],
        "exec": "async\n",
        "exec_detailed": 5,
        "exec_chain": "a\nb\n",
        "get_init": "true\n",
        "clear_init": True,
        "snapshots": 1,
        "restore": 2,
        "delete": "workspace/a.txt",
    }


def test_key_management_works(report):
    assert report["from_api_key"] is True
    assert report["create_key"] == ["workspace", "locked-ns", True, True]
    assert report["list_keys"] is True
    assert report["locked_key_elsewhere"] == ["TroveAuthError", 403]
    assert report["locked_key_home"] == "workspace/ok.txt"
    assert report["revoked_key"] == ["TroveAuthError", 401]
    assert report["revoke_unknown"] == ["TroveNotFoundError", 404]
    assert report["workspace_key_on_keys"] == ["TroveAuthError", 403]


def test_webhook_management_works(report):
    assert report["create_webhook"] == [True, ["file.written"], True, True]
    assert report["list_webhooks"] is True
    assert report["test_webhook"] == [True, 204, True]
    assert report["delete_webhook"] == ["TroveNotFoundError", 404]


def test_the_published_verify_webhook_accepts_our_deliveries(report):
    assert report["verified_test_delivery"] == ["webhook.test", True]
    assert report["verified_delivery"] == [
        "file.written",
        "hooked",
        "workspace/fired.txt",
        True,
        "2026-04-30",
    ]
    assert report["wrong_secret"] == "rejected"


def test_the_async_admin_client_works(report):
    assert report["async_admin"] == [True, True, True, ["*"]]
