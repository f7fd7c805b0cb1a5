"""``python -m trove_server``, ``trove server`` and ``trove dev`` as a user runs them: real
processes, real ports, their stderr banner, first-run bootstrapping and reuse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from trove_sdk import TroveAdminClient, TroveClient

pytestmark = pytest.mark.slow

TROVE = str(Path(sys.executable).with_name("trove"))


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server command; yield once its banner says it is ready; Ctrl-C it after."""
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while "Ctrl-C to stop" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def _env(trove_home: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(TROVE_HOME=trove_home, **extra)
    return env


def _url(banner: str) -> str:
    for line in banner.splitlines():
        if "listening on " in line:
            return line.rsplit(" ", 1)[1]
        if line.startswith("trove dev: local Trove at "):
            return line.split()[5]
    raise AssertionError(banner)


def _value(banner: str, label: str) -> str:
    for line in banner.splitlines():
        if line.strip().startswith(label):
            return line.split()[-1]
    raise AssertionError(f"{label!r} not in:\n{banner}")


def test_bootstrap_prints_the_isolation_and_first_keys_once(tmp_path, trove_home):
    data = tmp_path / "data"
    args = [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(data),
            "--bootstrap"]  # fmt: skip
    log = tmp_path / "first.log"
    with running(args, _env(trove_home), log):
        banner = log.read_text()
        assert "isolation: " in banner
        admin_key = _value(banner, "admin key")
        with TroveAdminClient.from_api_key(admin_key, base_url=_url(banner)) as admin:
            assert admin.me().scope == "admin"
        assert "/dashboard?token=" in banner
    again = tmp_path / "second.log"
    with running(args, _env(trove_home), again):
        assert "admin key" not in again.read_text()


def test_every_start_prints_a_fresh_one_time_dashboard_link(tmp_path, trove_home):
    """Not only the first: a restart (without ``--bootstrap``) signs the owner in again, with
    a new link that works once; the token is printed in the banner line and nowhere else."""
    data = tmp_path / "data"
    args = [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(data)]
    links = []
    for run, extra in enumerate([["--bootstrap"], [], []]):
        log = tmp_path / f"run{run}.log"
        with running(args + extra, _env(trove_home), log):
            banner = log.read_text()
            link = _value(banner, "dashboard (one-time link):")
            assert link.startswith(f"{_url(banner)}/dashboard?token=")
            with httpx.Client() as browser:
                assert browser.get(link).status_code == 303  # signed in
                assert browser.get(link).status_code == 401  # used up
        token = link.split("token=", 1)[1]
        assert log.read_text().count(token) == 1
        links.append(link)
    assert len({link.split("token=")[1] for link in links}) == 3


def test_without_bootstrap_an_empty_server_says_how_to_get_keys(tmp_path, trove_home):
    args = [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(tmp_path)]
    log = tmp_path / "server.log"
    with running(args, _env(trove_home), log):
        assert "--bootstrap" in log.read_text()


def test_without_bubblewrap_the_server_runs_and_warns_loudly(tmp_path, trove_home):
    env = _env(trove_home, PATH=str(tmp_path / "empty-bin"))
    args = [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(tmp_path),
            "--bootstrap"]  # fmt: skip
    log = tmp_path / "server.log"
    with running(args, env, log):
        banner = log.read_text()
        assert "isolation: none — WARNING" in banner
        with TroveClient(_value(banner, "api key"), "x", base_url=_url(banner)) as c:
            assert c.me().isolation == "none"


def test_require_sandbox_refuses_to_start_without_bubblewrap(tmp_path, trove_home):
    env = _env(trove_home, PATH=str(tmp_path / "empty-bin"))
    result = subprocess.run(
        [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(tmp_path),
         "--require-sandbox"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "bubblewrap (bwrap) is not installed" in result.stderr


def test_exec_network_none_refuses_to_start_without_bubblewrap(tmp_path, trove_home):
    """Without the sandbox ``--exec-network none`` cannot be enforced: refused, not ignored."""
    env = _env(trove_home, PATH=str(tmp_path / "empty-bin"))
    result = subprocess.run(
        [sys.executable, "-m", "trove_server", "--port", "0", "--data-dir", str(tmp_path),
         "--exec-network", "none"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--exec-network none needs the bubblewrap sandbox" in result.stderr
    assert "bubblewrap (bwrap) is not installed" in result.stderr
    assert "apt install bubblewrap" in result.stderr
    assert "drop --exec-network none" in result.stderr
    assert "listening on" not in result.stderr


@pytest.mark.parametrize(
    ("option", "complaint"),
    [
        (["--exec-timeout", "0"], "exec_timeout"),
        (["--sandbox", "none", "--exec-network", "none"], "contradicts exec_network=none"),
        (["--retry-schedule", "5x"], "--retry-schedule"),
        (["--sandbox", "none", "--require-sandbox"], "contradicts"),
        (["--exec-network", "bridge"], "bridge"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, trove_home, option, complaint):
    result = subprocess.run(
        [sys.executable, "-m", "trove_server", "--data-dir", str(tmp_path), *option],
        env=_env(trove_home), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert complaint in result.stderr


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"exec_processes": "many"}, "exec_processes must be a whole number"),
        ({"exec_timout": 5}, "unknown setting(s) exec_timout"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_a_bad_config_file_is_a_usage_error(tmp_path, trove_home, config, complaint):
    config_file = tmp_path / "settings.json"
    config_file.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "trove_server", "--data-dir", str(tmp_path / "data"),
         "--port", "0", "--config", str(config_file)],
        env=_env(trove_home), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert complaint in result.stderr


def test_environment_variables_set_the_options(tmp_path, trove_home):
    env = _env(trove_home, TROVE_SERVER_PORT="0", TROVE_SERVER_DATA_DIR=str(tmp_path / "d"),
               TROVE_SERVER_EXEC_TIMEOUT="-1")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "trove_server"], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "exec_timeout" in result.stderr


def test_trove_dev_sets_up_a_local_stack_once_and_reuses_it(tmp_path, trove_home):
    args = [TROVE, "dev", "--port", "0"]
    first = tmp_path / "first.log"
    with running(args, _env(trove_home), first):
        banner = first.read_text()
        api_key = _value(banner, "api key")
        assert _value(banner, "admin key").startswith("trove-sk-")
        assert "dashboard / login approval:" in banner
        assert "trove run" in banner
        config = json.loads((Path(trove_home) / "config.json").read_text())
        assert config["default_profile"] == "local"
        assert config["profiles"]["local"]["api_key"] == api_key
        assert config["profiles"]["local"]["base_url"] == _url(banner)
        assert oct((Path(trove_home) / "config.json").stat().st_mode & 0o777) == "0o600"
        assert oct((Path(trove_home) / "dev" / "dev.json").stat().st_mode & 0o777) == "0o600"
        ran = subprocess.run(
            [TROVE, "run", "echo hello from the quickstart"],
            env=_env(trove_home), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ran.stdout == "hello from the quickstart\n", ran.stderr
    second = tmp_path / "second.log"
    with running(args, _env(trove_home), second):
        banner = second.read_text()
        assert "api key" not in banner
        assert "reusing workspace" in banner
        config = json.loads((Path(trove_home) / "config.json").read_text())
        assert config["profiles"]["local"]["api_key"] == api_key
        assert config["profiles"]["local"]["base_url"] == _url(banner)


def test_trove_dev_leaves_an_existing_default_profile_alone(tmp_path, trove_home):
    from trove_cli.config import Config, Profile

    Config().save(Profile(name="work", api_key="trove-sk-x", workspace_id="ws-1"),
                  make_default=True)  # fmt: skip
    log = tmp_path / "dev.log"
    with running([TROVE, "dev", "--port", "0"], _env(trove_home), log):
        assert "--profile local" in log.read_text()
    assert Config().default_profile == "work"
