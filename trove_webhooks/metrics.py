"""Receiver metrics in the Prometheus text format, written by hand.

No prometheus-client: its process-global registry would merge two receivers in one process
(an app mounting two, or a test suite), and the webhooks extra stays one dependency lighter.
Each app owns a ``Metrics``; ``render()`` produces the ``/metrics`` body. Label values are
bounded: event types outside the catalogue are counted as ``unknown``.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Mapping

from trove_sdk import EVENT_TYPES

__all__ = ["HANDLER_BUCKETS", "Metrics"]

HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _type_label(event_type: str) -> str:
    return event_type if event_type in EVENT_TYPES else "unknown"


def _labels(pairs: Mapping[str, str]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs.items()
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Counters and a latency histogram, safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: dict[tuple[str, str], int] = defaultdict(int)
        self._duplicates: dict[str, int] = defaultdict(int)
        self._signature_failures: dict[str, int] = defaultdict(int)
        self._rejections: dict[str, int] = defaultdict(int)
        self._inbox: dict[tuple[str, str], int] = defaultdict(int)
        # type → [bucket counts..., +Inf count, sum]; the count is the sum of the buckets
        self._latency: dict[str, list[float]] = {}

    def delivery(self, status: str, event_type: str, handler_seconds: float | None = None) -> None:
        """One answered, verified delivery: processed, duplicate, ignored, queued, failed, ...

        ``handler_seconds``, when its handlers ran, goes into the latency histogram in the same
        locked update (``observe_handlers``): one per delivery instead of two.
        """
        label = event_type if event_type in EVENT_TYPES else "unknown"
        with self._lock:
            self._deliveries[(status, label)] += 1
            if status == "duplicate":
                self._duplicates[label] += 1
            if handler_seconds is not None:
                self._observe(label, handler_seconds)

    def signature_failure(self, reason: str) -> None:
        with self._lock:
            self._signature_failures[reason] += 1

    def rejected(self, reason: str) -> None:
        """A request refused before verification: method, content type, size."""
        with self._lock:
            self._rejections[reason] += 1

    def inbox_outcome(self, outcome: str, event_type: str) -> None:
        """A worker finished a run: done, retry (failed, will run again) or dead."""
        with self._lock:
            self._inbox[(outcome, _type_label(event_type))] += 1

    def observe_handlers(self, event_type: str, seconds: float) -> None:
        label = _type_label(event_type)
        with self._lock:
            self._observe(label, seconds)

    def _observe(self, label: str, seconds: float) -> None:
        """Count one run of a type's handlers in the histogram (called under the lock)."""
        row = self._latency.get(label)
        if row is None:
            row = self._latency[label] = [0] * (len(HANDLER_BUCKETS) + 1) + [0.0]
        row[bisect.bisect_left(HANDLER_BUCKETS, seconds)] += 1
        row[-1] += seconds

    def counts(self) -> dict[tuple[str, str], int]:
        """Deliveries by (status, type) — for tests and ``inbox stats``."""
        with self._lock:
            return dict(self._deliveries)

    def render(self, gauges: Mapping[str, Mapping[str, float]] | None = None) -> str:
        """The exposition text; ``gauges`` adds e.g. inbox depth by status."""
        lines: list[str] = []
        with self._lock:
            _counter(
                lines,
                "trove_webhook_deliveries_total",
                "Verified deliveries by answer and type.",
                {_labels({"status": s, "type": t}): n for (s, t), n in self._deliveries.items()},
            )
            _counter(
                lines,
                "trove_webhook_duplicates_total",
                "Deliveries of an event already processed or queued.",
                {_labels({"type": t}): n for t, n in self._duplicates.items()},
            )
            _counter(
                lines,
                "trove_webhook_signature_failures_total",
                "Deliveries refused by signature verification, by reason.",
                {_labels({"reason": r}): n for r, n in self._signature_failures.items()},
            )
            _counter(
                lines,
                "trove_webhook_rejected_requests_total",
                "Requests refused before verification (method, content type, size).",
                {_labels({"reason": r}): n for r, n in self._rejections.items()},
            )
            _counter(
                lines,
                "trove_webhook_inbox_runs_total",
                "Inbox handler runs by outcome (done, retry, dead) and type.",
                {_labels({"outcome": o, "type": t}): n for (o, t), n in self._inbox.items()},
            )
            name = "trove_webhook_handler_duration_seconds"
            lines += [
                f"# HELP {name} Time spent running one event's handlers.",
                f"# TYPE {name} histogram",
            ]
            for etype, row in sorted(self._latency.items()):
                running = 0
                for bound, n in zip((*HANDLER_BUCKETS, float("inf")), row[:-1], strict=True):
                    running += int(n)
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f"{name}_bucket{_labels({'type': etype, 'le': le})} {running}")
                lines.append(f"{name}_sum{_labels({'type': etype})} {row[-1]}")
                lines.append(f"{name}_count{_labels({'type': etype})} {running}")
        for gauge, values in (gauges or {}).items():
            lines.append(f"# TYPE {gauge} gauge")
            for status, value in sorted(values.items()):
                lines.append(f"{gauge}{_labels({'status': status})} {value:g}")
        return "\n".join(lines) + "\n"


def _counter(lines: list[str], name: str, help_text: str, values: Mapping[str, int]) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines.extend(f"{name}{labels} {n}" for labels, n in sorted(values.items()))
