"""Sandbox escapes that must fail, tried by real commands under bubblewrap.

In CI (``TROVE_TEST_REQUIRE_SANDBOX=1``) these fail instead of skipping when bubblewrap is
unusable. Processes are checked from the host side (``/proc``), not by asking the sandbox.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.server.support import host_processes_matching, require_bwrap, wait_until
from trove_sdk import TroveTimeoutError

pytestmark = pytest.mark.sandbox


@pytest.fixture
def box(sandboxed, namespace):
    with sandboxed.client(namespace) as client:
        yield client


@pytest.fixture
def tight(capped_server, namespace):
    """The capped server: 64 processes, 4 MiB files, 512 MiB memory, no network."""
    require_bwrap(capped_server.isolation)
    with capped_server.client(namespace) as client:
        yield client


def test_another_namespaces_files_are_not_visible(box, sandboxed, trove_server):
    marker = f"secret-{uuid.uuid4().hex}"
    with sandboxed.client(f"other-{uuid.uuid4().hex[:8]}") as other:
        other.write(f"{marker}.txt", "top secret")
    host_root = trove_server.data_dir / "namespaces"
    result = box.exec_detailed(
        f"test -e {host_root} && echo VISIBLE; "
        f"find / -path /proc -prune -o -name '{marker}*' -print 2>/dev/null; echo done"
    )
    assert result.stdout == "done\n"


def test_the_host_filesystem_is_not_mounted(box):
    result = box.exec_detailed(
        "for d in /home /root /work /var /srv /mnt; do test -e $d && echo $d; done; ls -A /"
    )
    lines = result.stdout.split()
    assert not [d for d in ("/home", "/root", "/work", "/var", "/srv", "/mnt") if d in lines]
    assert "trove" in lines and "usr" in lines


@pytest.mark.parametrize("target", ["/usr/evil", "/etc/evil", "/bin/evil", "/evil", "/dev/evil"])
def test_nothing_outside_trove_and_tmp_is_writable(box, target):
    result = box.exec_detailed(f"echo x > {target} && echo WROTE")
    assert "WROTE" not in result.stdout
    assert result.exit_code != 0
    assert not Path(target).exists() or (target in ("/dev/evil",) and not Path(target).is_file())


def test_tmp_is_private_and_does_not_outlive_the_call(box):
    assert box.exec_detailed("echo x > /tmp/scratch && cat /tmp/scratch").stdout == "x\n"
    assert box.exec_detailed("test -e /tmp/scratch && echo STILL || echo gone").stdout == "gone\n"


def test_a_background_process_dies_with_the_call(box):
    marker = f"trove-bg-{uuid.uuid4().hex}"
    result = box.exec_detailed(f"bash -c 'exec -a {marker} sleep 60' & echo started")
    assert result.stdout == "started\n"
    wait_until(lambda: not host_processes_matching(marker), timeout=5)


def test_a_timeout_kills_the_whole_process_tree(box):
    marker = f"trove-tree-{uuid.uuid4().hex}"
    with pytest.raises(TroveTimeoutError):
        box.exec_detailed(
            f"(bash -c 'exec -a {marker} sleep 60' &) ; bash -c 'exec -a {marker} sleep 60'",
            timeout_s=1,
        )
    wait_until(lambda: not host_processes_matching(marker), timeout=5)


def test_a_fork_bomb_is_contained_by_the_process_limit(tight):
    """The bomb's processes are counted from the host while it runs: they top out at the
    limit, and all of them are gone when the call ends."""
    assert tight.exec_detailed("ulimit -u").stdout == "64\n"
    marker = f"trove-bomb-{uuid.uuid4().hex}"
    peak = 0

    def bomb() -> None:
        with contextlib.suppress(TroveTimeoutError):
            tight.exec_detailed(
                f"bash -c 'exec -a {marker} bash -c \"b() {{ b | b & }}; b; sleep 2\"'",
                timeout_s=3,
            )

    worker = threading.Thread(target=bomb)
    worker.start()
    while worker.is_alive():
        peak = max(peak, len(host_processes_matching(marker)))
        time.sleep(0.05)
    assert 20 < peak <= 64
    wait_until(lambda: not host_processes_matching(marker), timeout=10)
    assert tight.exec_detailed("echo still-serving").stdout == "still-serving\n"


def test_an_output_flood_is_capped_not_buffered(box):
    result = box.exec_detailed("head -c 50000000 /dev/zero; head -c 50000000 /dev/zero >&2")
    assert len(result.stdout) == 1024 * 1024 and result.stdout_truncated
    assert len(result.stderr) == 1024 * 1024 and result.stderr_truncated


def test_a_disk_flood_stops_at_the_file_size_limit(tight):
    result = tight.exec_detailed(
        "head -c 20000000 /dev/zero > workspace/flood; echo rc=$?; stat -c %s workspace/flood"
    )
    size = int(result.stdout.split()[-1])
    assert size <= 4 * 1024 * 1024
    assert "rc=0" not in result.stdout


def test_memory_beyond_the_limit_cannot_be_allocated(tight):
    result = tight.exec_detailed(
        "command -v python3 >/dev/null || { echo no-python; exit 0; }; "
        "python3 -c 'b = bytearray(1024 ** 3)' 2>&1 | tail -1"
    )
    if result.stdout == "no-python\n":
        pytest.skip("python3 is not installed in this system image")
    assert "MemoryError" in result.stdout


def test_a_tmp_flood_stops_at_the_tmpfs_size(box):
    result = box.exec_detailed("head -c 400000000 /dev/zero > /tmp/fill; echo rc=$?")
    assert "rc=0" not in result.stdout


def test_no_network_with_exec_network_none(tight, capped_server):
    port = capped_server.base_url.rsplit(":", 1)[1]
    probe = f"(echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo OPEN || echo BLOCKED"
    assert tight.exec_detailed(probe).stdout == "BLOCKED\n"


def test_the_same_probe_reaches_the_host_with_exec_network_host(box, trove_server):
    """The control for the test above: the probe can tell open from blocked."""
    port = trove_server.base_url.rsplit(":", 1)[1]
    probe = f"(echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo OPEN || echo BLOCKED"
    assert box.exec_detailed(probe).stdout == "OPEN\n"


def test_commands_have_no_capabilities_and_no_new_privileges(box):
    status = box.exec_detailed("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status")
    fields = dict(line.split(":\t") for line in status.stdout.splitlines())
    assert fields == {"CapPrm": "0000000000000000", "CapEff": "0000000000000000", "NoNewPrivs": "1"}


def test_only_the_commands_own_processes_are_visible(box):
    count = int(box.exec_detailed("ls /proc | grep -c '^[0-9]'").stdout)
    assert count < 10  # bwrap's init, bash, ls, grep — not the host's hundreds


def test_the_namespace_is_mounted_at_trove(box):
    assert box.exec_detailed("pwd; echo $HOME").stdout == "/trove\n/trove\n"
