"""The deploy files, checked by running the commands they contain (there is no container
engine or systemd here): same program, same arguments, same environment, with only the
host-specific parts (ports, hostnames, paths) pointed at this machine."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.webhooks.conftest import SECRET, free_port
from tests.webhooks.process_hooks import read_log
from tests.webhooks.processes import ROOT, Process, base_env
from trove_webhooks.config import DEFAULT_PATH
from trove_webhooks.testing import signed_delivery

DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def dockerfile() -> dict[str, Any]:
    """ENV, CMD, HEALTHCHECK CMD and STOPSIGNAL of deploy/Dockerfile."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    parsed: dict[str, Any] = {"env": env}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
        elif line.startswith("CMD "):
            parsed["cmd"] = json.loads(line[4:])
        elif line.startswith("HEALTHCHECK "):
            parsed["healthcheck"] = json.loads(line.split(" CMD ", 1)[1])
        elif line.startswith("STOPSIGNAL "):
            parsed["stopsignal"] = line.split()[1]
    return parsed


def local(argv: list[str]) -> list[str]:
    """The image's programs are this venv's."""
    programs = {"python": sys.executable, "trove": str(VENV_BIN / "trove")}
    return [programs.get(argv[0], argv[0]), *argv[1:]]


class Launched(Process):
    def __init__(self, argv: list[str], env: dict[str, str], log: Path, port: int) -> None:
        super().__init__(argv, env, log)
        self.port = port

    def wait_http(self, path: str, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}:\n{self.output}")
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"no answer on {path}:\n{self.output}")


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[str]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield f"{redis_url}?prefix={prefix}"
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


# --- Dockerfile ---------------------------------------------------------------------------


def test_the_container_command_serves_and_its_healthcheck_passes(tmp_path: Path) -> None:
    image = dockerfile()
    assert image["cmd"] == ["python", "-m", "trove_webhooks"]
    assert image["env"]["LOG_FORMAT"] == "json"
    port = free_port()
    env = base_env(**{**image["env"], "HOST": "127.0.0.1", "PORT": str(port)})
    receiver = Launched(local(image["cmd"]), env, tmp_path / "container.log", port).start()
    try:
        assert receiver.wait_http("/healthz").status_code == 200
        check = subprocess.run(local(image["healthcheck"]), env=env, timeout=30, check=False)
        assert check.returncode == 0
        delivery = signed_delivery("file.written", secret=SECRET)
        answer = httpx.post(
            f"http://127.0.0.1:{port}{DEFAULT_PATH}",
            content=delivery.body,
            headers=delivery.headers,
        )
        assert answer.json()["status"] == "processed"
        assert receiver.proc is not None
        receiver.proc.send_signal(getattr(signal, image["stopsignal"]))
        assert receiver.proc.wait(35) in (0, -signal.SIGTERM)
    finally:
        receiver.stop()
    lines = [json.loads(line) for line in receiver.output.splitlines() if line.startswith("{")]
    assert any(line.get("event", {}).get("id") == delivery.event_id for line in lines)


def test_the_healthcheck_fails_when_nothing_answers() -> None:
    image = dockerfile()
    env = base_env(PORT=str(free_port()))
    check = subprocess.run(local(image["healthcheck"]), env=env, capture_output=True, timeout=30)
    assert check.returncode != 0


# --- compose ------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def expand(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:?msg} and ${VAR:-default} against ``env``."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose requires {name}: {rest}")
        return rest or ""

    return re.sub(r"\$\{(\w+)(:\?|:-)?([^}]*)\}", one, value)


def test_compose_runs_two_receiver_replicas_sharing_redis(tmp_path: Path, redis_store: str) -> None:
    service = compose()["services"]["receiver"]
    assert service["deploy"]["replicas"] == 2
    assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "redis" in compose()["services"] and "trove" in compose()["services"]
    given = {
        "TROVE_WEBHOOK_SECRET": SECRET,
        "TROVE_WEBHOOKS_ROUTER": "tests.webhooks.process_hooks:router",
    }
    env = {k: expand(str(v), given) for k, v in service["environment"].items()}
    assert env["TROVE_WEBHOOKS_STORE"] == "redis://redis:6379/0"
    env["TROVE_WEBHOOKS_STORE"] = redis_store  # the compose network's redis is ours here
    env["HOST"] = "127.0.0.1"
    log = tmp_path / "hooks.log"
    replicas = []
    for i in range(service["deploy"]["replicas"]):
        port = free_port()
        replica_env = base_env(**{**env, "PORT": str(port), "HOOKS_LOG": str(log)})
        replicas.append(
            Launched(local(service["command"]), replica_env, tmp_path / f"r{i}.log", port)
        )
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            assert replica.wait_http("/healthz").status_code == 200
        deliveries = [signed_delivery("exec.completed", secret=SECRET) for _ in range(10)]
        jobs = [(r, d) for d in deliveries for r in replicas]
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda j: httpx.post(
                        f"http://127.0.0.1:{j[0].port}{DEFAULT_PATH}",
                        content=j[1].body,
                        headers=j[1].headers,
                        timeout=30,
                    ),
                    jobs,
                )
            )
    finally:
        for replica in replicas:
            replica.stop()
    assert Counter(a.json()["status"] for a in answers)["processed"] == 10
    assert Counter(e for e, _, _ in read_log(str(log))) == Counter(
        {d.event_id: 1 for d in deliveries}
    )


def test_compose_runs_the_trove_server_with_its_command(tmp_path: Path) -> None:
    service = compose()["services"]["trove"]
    argv = local(list(service["command"]))
    port = free_port()
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--data-dir") + 1] = str(tmp_path / "data")
    env = base_env(TROVE_HOME=str(tmp_path / "home"))
    server = Launched(argv, env, tmp_path / "trove.log", port).start()
    try:
        answer = server.wait_http("/v1/me")
    finally:
        server.stop()
    assert answer.status_code == 401  # serving the API, and asking for a key


# --- Kubernetes ---------------------------------------------------------------------------


def manifests() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "receiver.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs}


def test_the_deployment_has_two_replicas_probes_on_healthz_and_the_secret_from_a_secret() -> None:
    objects = manifests()
    spec = objects["Deployment"]["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert spec["replicas"] == 2
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["ports"][0]["name"] == "http"
    secret = next(e for e in container["env"] if e["name"] == "TROVE_WEBHOOK_SECRET")
    assert "secretKeyRef" in secret["valueFrom"] and "value" not in secret
    assert objects["Service"]["spec"]["selector"] == spec["selector"]["matchLabels"]
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] > 30


def test_the_kubernetes_container_serves_and_answers_its_probes(
    tmp_path: Path, redis_store: str
) -> None:
    container = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", SECRET) for e in container["env"]}  # the Secret's value
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port), TROVE_WEBHOOKS_STORE=redis_store)
    pod = Launched(local(container["command"]), base_env(**env), tmp_path / "pod.log", port).start()
    try:
        probe = container["readinessProbe"]["httpGet"]["path"]
        assert pod.wait_http(probe).status_code == 200
        delivery = signed_delivery(secret=SECRET)
        answer = httpx.post(
            f"http://127.0.0.1:{port}{DEFAULT_PATH}",
            content=delivery.body,
            headers=delivery.headers,
        )
    finally:
        pod.stop()
    assert answer.json()["status"] == "processed"


# --- systemd ------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / "trove-webhooks.service")
    return parser


def test_the_systemd_exec_start_serves_two_processes_and_stops_on_its_kill_signal(
    tmp_path: Path,
) -> None:
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[:3] == ["/opt/trove/venv/bin/trove", "webhooks", "serve"]
    port = free_port()
    argv[0] = str(VENV_BIN / "trove")
    argv[argv.index("--port") + 1] = str(port)
    store = argv.index("--store") + 1
    assert argv[store].startswith("sqlite:////var/lib/trove-webhooks/")
    argv[store] = f"sqlite:///{tmp_path}/claims.db"
    env_file = {"TROVE_WEBHOOK_SECRET": SECRET}  # what /etc/trove/webhooks.env holds
    key, _, value = service["Environment"].partition("=")
    env = base_env(**env_file, **{key: value})
    receiver = Launched(argv, env, tmp_path / "unit.log", port).start()
    try:
        assert receiver.wait_http("/healthz").status_code == 200
        delivery = signed_delivery(secret=SECRET)
        answer = httpx.post(
            f"http://127.0.0.1:{port}{DEFAULT_PATH}",
            content=delivery.body,
            headers=delivery.headers,
        )
        assert answer.json()["status"] == "processed"
        assert receiver.proc is not None
        receiver.proc.send_signal(getattr(signal, service["KillSignal"]))
        code = receiver.proc.wait(float(service["TimeoutStopSec"]))
    finally:
        receiver.stop()
    assert code in (0, -signal.SIGTERM)
    assert service["SuccessExitStatus"] == "SIGTERM"
    assert os.path.basename(service["EnvironmentFile"]) == "webhooks.env"


def test_the_readme_names_every_file() -> None:
    text = (DEPLOY / "README.md").read_text()
    for name in (
        "Dockerfile",
        "compose.yaml",
        "kubernetes/receiver.yaml",
        "systemd/trove-webhooks.service",
    ):
        assert f"({name})" in text
