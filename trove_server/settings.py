"""Everything the server can be told: one frozen dataclass, validated once.

The command-line options and ``TROVE_SERVER_*`` variables (``options.py``) and the test
helpers (``testing.py``) all end up here, so a setting has one name, one default and one check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_RETRY_SCHEDULE",
    "Settings",
    "SettingsError",
    "parse_duration",
    "parse_retry_schedule",
]

MIB = 1 << 20
DEFAULT_PORT = 8787
# CONTRACT X3: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 10800, 21600)

# Field annotations (strings, under postponed evaluation) → what a value may be. A --config
# file is JSON, so a wrong type would otherwise reach, say, the prelude's `ulimit -u many`.
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
    "str": ((str,), "a string"),
    "str | None": ((str, type(None)), "a string or null"),
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class SettingsError(ValueError):
    """A setting has a value the server cannot run with (the message names the setting)."""


def parse_duration(text: str) -> float:
    """``"250ms"``, ``"5s"``, ``"2m"``, ``"1h30m"`` or a bare number of seconds → seconds."""
    value = text.strip().lower()
    if not value:
        raise SettingsError("empty duration")
    total, pos = 0.0, 0
    while pos < len(value):
        match = _DURATION_PART.match(value, pos)
        if match is None or match.end() == pos:
            raise SettingsError(f"{text!r} is not a duration (use e.g. 500ms, 5s, 2m, 1h30m)")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return total


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """``"5s,30s,2m"`` → ``(5.0, 30.0, 120.0)``; an empty string means "never retry"."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    return tuple(parse_duration(p) for p in parts)


@dataclass(frozen=True)
class Settings:
    """Server configuration.

    Parameters:
        data_dir: where ``trove.db``, namespaces and snapshots live (created 0700).
        host, port: where to listen (port 0: any free port).
        public_url: the base URL printed in links (device login, dashboard); defaults to
            ``http://host:port``.
        sandbox: ``auto`` (bubblewrap when it works), ``bwrap`` (same, but refuse to start
            without it) or ``none`` (no isolation: trusted local use only).
        require_sandbox: refuse to start unless commands run under bubblewrap.
        exec_network: ``host`` (outbound allowed, like hosted Trove) or ``none`` (a network
            namespace of their own: needs the sandbox, so the server refuses to start without it).
        exec_timeout: default wall clock per command, seconds (``/v1/exec`` answers 408).
        allow_signup: serve ``POST /v1/workspaces`` (open sign-up, extension X8).
        retry_schedule: delays between webhook delivery attempts (X3).
        sse_keepalive: seconds between ``: keep-alive`` comments on the event stream.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str | None = None
    sandbox: str = "auto"
    require_sandbox: bool = False
    exec_network: str = "host"
    exec_timeout: float = 30.0
    exec_timeout_max: float = 600.0
    exec_output_cap: int = MIB
    exec_stdin_cap: int = MIB
    exec_memory_mb: int = 4096
    exec_file_size_mb: int = 1024
    exec_processes: int = 256
    exec_tmp_mb: int = 256
    exec_concurrency: int = 16
    exec_scan_limit: int = 5000
    exec_min_free_mb: int = 256
    sandbox_uid: int = 65534
    allow_signup: bool = False
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    delivery_timeout: float = 10.0
    delivery_concurrency: int = 64
    sse_keepalive: float = 15.0
    snapshot_retention_days: float = 30.0
    event_retention_days: float = 90.0
    max_upload_bytes: int = 100 * MIB
    max_download_bytes: int = 100 * MIB
    preview_bytes: int = MIB
    max_json_bytes: int = 16 * MIB
    listing_max_entries: int = 1000
    listing_max_depth: int = 20
    snapshot_list_max: int = 200
    label_max_chars: int = 128
    device_code_ttl: int = 600
    log_level: str = "info"

    def __post_init__(self) -> None:
        self._check_types()
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        if self.sandbox not in ("auto", "bwrap", "none"):
            raise SettingsError(f"sandbox must be auto, bwrap or none, not {self.sandbox!r}")
        if self.exec_network not in ("host", "none"):
            raise SettingsError(f"exec_network must be host or none, not {self.exec_network!r}")
        if self.sandbox == "none" and self.require_sandbox:
            raise SettingsError("sandbox=none contradicts require_sandbox")
        if self.sandbox == "none" and self.exec_network == "none":
            raise SettingsError(
                "sandbox=none contradicts exec_network=none (only the sandbox can cut commands "
                "off the network)"
            )
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be 0-65535, not {self.port}")
        if not 0 < self.exec_timeout <= self.exec_timeout_max:
            raise SettingsError(
                f"exec_timeout must be above 0 and at most exec_timeout_max "
                f"({self.exec_timeout_max:g}s), not {self.exec_timeout:g}"
            )
        if any(d < 0 for d in self.retry_schedule):
            raise SettingsError("retry_schedule delays must not be negative")
        for name in (
            "sse_keepalive",
            "delivery_timeout",
            "exec_output_cap",
            "exec_stdin_cap",
            "exec_concurrency",
            "delivery_concurrency",
            "max_upload_bytes",
            "max_download_bytes",
            "preview_bytes",
            "max_json_bytes",
            "exec_memory_mb",
            "exec_file_size_mb",
            "exec_processes",
            "exec_tmp_mb",
            "listing_max_entries",
            "listing_max_depth",
            "snapshot_list_max",
            "label_max_chars",
            "device_code_ttl",
            "snapshot_retention_days",
            "event_retention_days",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive")
        if self.public_url is not None:
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    def _check_types(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _KINDS.get(str(f.type))
            if kind is not None:
                allowed, words = kind
                if not isinstance(value, allowed) or (
                    isinstance(value, bool) and bool not in allowed
                ):
                    raise SettingsError(f"{f.name} must be {words}, not {value!r}")
        if not isinstance(self.data_dir, (str, Path)):
            raise SettingsError(f"data_dir must be a path, not {self.data_dir!r}")
        schedule = self.retry_schedule
        if not isinstance(schedule, (list, tuple)) or not all(
            isinstance(d, (int, float)) and not isinstance(d, bool) for d in schedule
        ):
            raise SettingsError(f"retry_schedule must be a list of seconds, not {schedule!r}")
        object.__setattr__(self, "retry_schedule", tuple(float(d) for d in schedule))

    @property
    def require_bwrap(self) -> bool:
        """Whether starting without bubblewrap must be refused: asked for explicitly, or
        implied by ``exec_network=none`` (without the sandbox commands would keep the network)."""
        return self.require_sandbox or self.sandbox == "bwrap" or self.exec_network == "none"

    def with_changes(self, **changes: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SettingsError(f"unknown server setting(s): {', '.join(unknown)}")
        return replace(self, **changes)

    # --- where things live ---------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.data_dir / "trove.db"

    @property
    def namespaces_dir(self) -> Path:
        return self.data_dir / "namespaces"

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"
