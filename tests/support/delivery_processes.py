"""Standalone `ld-adapter worker` processes for e2e tests and the drain benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapter.exchange.model import PENDING_STATES
from adapter.store import Store

# Short enough that a dead worker's messages are taken again within seconds.
FAST = {
    "LD_ADAPTER_DELIVERY_TIMEOUT": "2",
    "LD_ADAPTER_DELIVERY_LEASE_SECONDS": "4",
    "LD_ADAPTER_DELIVERY_BACKOFF_BASE": "0.2",
    "LD_ADAPTER_DELIVERY_BACKOFF_MAX": "1",
    "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.1",
}


def worker_env(home: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a worker on this database, with the fast delivery settings."""
    return {
        **os.environ,
        "LD_ADAPTER_HOME": str(home),
        "LD_ADAPTER_DATABASE_URL": database_url,
        **FAST,
        **settings,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `ld-adapter worker`; its log goes to a file (a full pipe would stall it)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "adapter.cli", "worker"], env=env, stdout=out, stderr=out
        )


def stop_workers(processes: list[subprocess.Popen], timeout: float = 20) -> list[int | None]:
    """SIGTERM each still running, wait for them; their exit codes."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait(timeout=5))
    return codes


@contextmanager
def workers(env: dict[str, str], count: int, logs: Path) -> Iterator[list[subprocess.Popen]]:
    """`count` standalone workers, stopped (SIGTERM) when the block ends."""
    started = [start_worker(env, logs / f"worker-{i}.log") for i in range(count)]
    try:
        yield started
    finally:
        stop_workers(started)


def pending(store: Store) -> int:
    """How many messages still wait for delivery."""
    total = 0
    with store.unit_of_work(read_only=True) as uow:
        for status in PENDING_STATES:
            total += uow.outbox.list(status, 1, 0)[1]
    return total


def wait_until_drained(store: Store, timeout: float) -> float:
    """Seconds until no message is pending; AssertionError after `timeout`."""
    began = time.monotonic()
    while pending(store):
        assert time.monotonic() - began < timeout, f"{pending(store)} messages still pending"
        time.sleep(0.05)
    return time.monotonic() - began
