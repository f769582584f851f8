"""The adapter's Prometheus metrics, and the registry /metrics serves.

Under `ld-adapter serve` several gunicorn processes count on their own; prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by adapter.server before any worker starts) keeps
each process's values in a file there, and /metrics adds them up. Labels are route templates,
statuses, partner Endpoint ids and issue codes: never a raw path, a name or anything about a person.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_REQUESTS = Counter(
    "ld_adapter_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "ld_adapter_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES_SENT = Counter("ld_adapter_messages_sent", "Messages a partner accepted", ["endpoint"])
MESSAGES_FAILED = Counter(
    "ld_adapter_messages_failed",
    "Delivery attempts that failed and will be tried again",
    ["endpoint"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "ld_adapter_messages_dead_lettered", "Messages given up on (dead-letter)", ["endpoint"]
)
INBOUND_MESSAGES = Counter(
    "ld_adapter_inbound_messages",
    "Messages received on $process-message or from MESH, by outcome and reason (an issue code)",
    ["outcome", "reason"],
)
VALIDATIONS = Counter(
    "ld_adapter_validations", "Resources validated ($validate and received messages)", ["outcome"]
)

# Outbox status → counter of the attempt that ended in it.
_DELIVERY_COUNTERS = {
    "delivered": MESSAGES_SENT,
    "retrying": MESSAGES_FAILED,
    "dead-letter": MESSAGES_DEAD_LETTERED,
}


def count_validation(valid: bool) -> None:
    """Count one validation by its outcome ($validate, $process-message and MESH messages)."""
    VALIDATIONS.labels(outcome="valid" if valid else "invalid").inc()


def count_inbound(accepted: bool, reason: str = "none") -> None:
    """Count one received message ($process-message or MESH): accepted, or refused with a reason."""
    INBOUND_MESSAGES.labels("accepted" if accepted else "rejected", reason).inc()


def count_delivery(status: str, endpoint_id: str) -> None:
    """Count one recorded delivery attempt by the status it left the message in."""
    counter = _DELIVERY_COUNTERS.get(status)
    if counter is not None:
        counter.labels(endpoint=endpoint_id).inc()


def prepare_multiprocess_dir(directory: Path) -> None:
    """Use `directory` for every process from now on, emptied of processes no longer running."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if not (pid.isdigit() and _running(int(pid))):
            path.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    # prometheus-client chose how to keep values when first imported: choose again.
    values.ValueClass = values.get_value_class()


def process_ended(pid: int) -> None:
    """Forget the live gauges of a process that ended (gunicorn's child_exit)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text /metrics answers: every process's counters (or this one's), then `extra`."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Forward(Collector):
    """The default registry's metrics, inside another registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterable:
        """What the source collects."""
        return self._source.collect()


class QueueCollector(Collector):
    """Outbox depth by status and the oldest waiting message's age, read when scraped."""

    def __init__(self, read: Callable[[], tuple[dict[str, int], float | None]]) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """Two gauges from one read of the outbox."""
        counts, oldest = self._read()
        depth = GaugeMetricFamily(
            "ld_adapter_outbox_messages", "Outbound messages by status", labels=["status"]
        )
        for status, count in sorted(counts.items()):
            depth.add_metric([status], count)
        age = GaugeMetricFamily(
            "ld_adapter_outbox_oldest_waiting_seconds",
            "Age of the oldest message waiting for delivery (0 when none waits)",
        )
        age.add_metric([], oldest or 0.0)
        return [depth, age]


class StalledCollector(Collector):
    """Whether due messages wait with no delivery worker anywhere beating, read when scraped."""

    def __init__(self, read: Callable[[], bool]) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """One gauge: 1 when stalled, else 0 (alert on it; /readyz stays ready)."""
        stalled = GaugeMetricFamily(
            "ld_adapter_delivery_stalled",
            "1 when a message has been due LD_ADAPTER_WORKER_STALE_SECONDS and no delivery "
            "worker has written its heartbeat in that time",
        )
        stalled.add_metric([], 1.0 if self._read() else 0.0)
        return [stalled]
