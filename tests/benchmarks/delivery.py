"""Drain rate: 10,000 queued messages to a loopback partner by 1, 2 and 4 `ld-adapter worker`s.

Each run has a fresh PostgreSQL schema holding 10,000 messages (one per person, so none waits for
another) and the partner's Endpoint; the workers are real processes with the default batch and
audit on; the partner is the threaded test partner in this process. The rate counts from the
partner's first accepted message to its last, so the workers' start-up is not in it; the median is
over the 1-second windows in between. Target: ≥ 200 messages/s with 2 workers.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from adapter.store import Store
from adapter.store.testing import postgres_schema
from tests.support.delivery_processes import wait_until_drained, worker_env, workers
from tests.support.outbox import endpoint, seed
from tests.support.partner_server import PartnerServer

Median = Callable[[Callable[[], object], int], float]
MESSAGES = 10_000
WORKER_COUNTS = (1, 2, 4)


def _all_cores() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def drain(base_url: str, count: int, messages: int = MESSAGES) -> dict[str, float]:
    """Queue `messages`, start `count` workers, time the partner receiving them all."""
    with PartnerServer() as partner, postgres_schema(base_url) as url:
        store = Store.from_url(url)
        store.migrate()
        with store.unit_of_work() as uow:
            uow.resources.create(endpoint(partner.base))
        seed(store, messages)
        with store.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE outbox_message")
        with tempfile.TemporaryDirectory() as home:
            settings = {"LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.1"}
            with workers(worker_env(Path(home), url, **settings), count, Path(home)):
                wait_until_drained(store, timeout=300)
        store.dispose()
        received = sorted(r.at for r in partner.received)
        sent_twice = sum(n - 1 for n in partner.requests_by_id().values())
    seconds = received[-1] - received[0]
    windows = [0] * (int(seconds) + 1)
    for at in received:
        windows[int(at - received[0])] += 1
    full = windows[:-1] or windows  # the last window is cut short
    return {
        "rate": (len(received) - 1) / seconds,
        "median": statistics.median(full),
        "first": full[0],
        "last": full[-1],
        "received": len(received),
        "sent_twice": sent_twice,
    }


def drain_section(_median: Median) -> list[str]:
    """Messages per second drained by 1, 2 and 4 workers on PostgreSQL."""
    base_url = os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL")
    title = f"## Delivery: draining {MESSAGES:,} queued messages (PostgreSQL)"
    if not base_url:
        return [title, "", "Not measured: LD_ADAPTER_TEST_POSTGRES_URL is not set.", ""]
    _all_cores()
    lines = [
        title,
        "",
        "Standalone `ld-adapter worker` processes (batch 20, audit on: an AuditEvent per attempt) "
        "on a fresh schema; a loopback threaded partner server in the benchmark process. "
        "Workers, partner and PostgreSQL share this 2-core machine. Rate from the first to the "
        "last message the partner accepted; median, first and last of the 1-second windows.",
        "",
        "| workers | messages/s | median 1 s window | first s | last s | sent twice | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for count in WORKER_COUNTS:
        began = time.perf_counter()
        result = drain(base_url, count)
        assert result["received"] == MESSAGES, result
        target = "≥ 200/s" if count == 2 else ""
        lines.append(
            f"| {count} | {result['rate']:,.0f} | {result['median']:,.0f} | {result['first']:,} "
            f"| {result['last']:,} | {result['sent_twice']:,} | {target} |"
        )
        print(f"{count} workers: {result} in {time.perf_counter() - began:.0f} s", flush=True)
    return [*lines, ""]


SECTIONS = [drain_section]


if __name__ == "__main__":
    print("\n".join(drain_section(lambda action, repeats: 0.0)))
