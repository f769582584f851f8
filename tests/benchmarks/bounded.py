"""Bounded work: how fast $validate refuses too much work, and /healthz with 20 slow clients."""

from __future__ import annotations

import select
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import requests

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.settings import Settings
from tests.benchmarks.validation import mixed_bundle
from tests.support.served import served_adapter

Median = Callable[[Callable[[], object], int], float]
SLOW_CLIENTS = 20
SLOW_SECONDS = 10.0
EMPTY_ENTRIES = (
    b'{"resourceType":"Bundle","type":"collection","entry":[' + b",".join([b"{}"] * 349_000) + b"]}"
)


def validate_limits_section(median: Median) -> list[str]:
    """$validate in-process: the 349k-entry Bundle refused, the largest allowed Bundle checked."""
    from tests.benchmarks.run import median_seconds  # seconds per call: one warm-up is plenty

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), base_url="http://bench")
        app = create_app(settings)
        client = app.test_client()
        headers = {
            "Authorization": f"Bearer {mint_dev_token(settings, ['system/*.cruds'])}",
            "Content-Type": "application/fhir+json",
        }
        allowed = orjson.dumps(mixed_bundle(settings.max_bundle_entries))

        def post(body: bytes, status: int) -> None:
            response = client.post("/fhir/$validate", data=body, headers=headers)
            assert response.status_code == status, response.status_code

        refused = median_seconds(lambda: post(EMPTY_ENTRIES, 413), 5, warmup=1)
        checked = median_seconds(lambda: post(allowed, 200), 5, warmup=1)
        app.extensions["ld_adapter"].store.dispose()
    return [
        "## Bounded work: `$validate` limits (in-process, one core)",
        "",
        "| input | answer | median |",
        "| --- | --- | --- |",
        f"| 1 MiB Bundle of 349,000 `{{}}` entries | 413 (over MAX_BUNDLE_ENTRIES) | {refused * 1e3:.0f} ms |",
        f"| {settings.max_bundle_entries:,}-entry mixed UK Core Bundle, {len(allowed):,} bytes | 200 | {checked * 1e3:.0f} ms |",
        "",
        "Before the limits the 349,000-entry Bundle took ~10 s in-process and answered 188 MB.",
        "",
    ]


def _trickle(port: int, stop: threading.Event) -> None:
    head = b"POST /fhir/$validate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    while not stop.is_set():
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(head)
            while not stop.wait(0.2):
                if select.select([sock], [], [], 0)[0]:
                    break
                try:
                    sock.sendall(b"{")
                except OSError:
                    break


def _healthz_latencies(base: str, seconds: float) -> list[float]:
    samples = []
    finish = time.monotonic() + seconds
    while time.monotonic() < finish:
        started = time.perf_counter()
        requests.get(f"{base}/healthz", timeout=10).raise_for_status()
        samples.append(time.perf_counter() - started)
        time.sleep(0.05)
    return sorted(samples)


def slow_clients_section(median: Median) -> list[str]:
    """/healthz latency on a served adapter (2 workers × 2 threads), quiet and with slow clients."""
    settings = {
        "LD_ADAPTER_WORKERS": "2",
        "LD_ADAPTER_THREADS": "2",
        "LD_ADAPTER_REQUEST_TIMEOUT": "5",
    }
    with tempfile.TemporaryDirectory() as home, served_adapter(Path(home), settings) as server:
        port = int(server.base.rsplit(":", 1)[1])
        quiet = _healthz_latencies(server.base, 3)
        stop = threading.Event()
        slow = [
            threading.Thread(target=_trickle, args=(port, stop), daemon=True)
            for _ in range(SLOW_CLIENTS)
        ]
        for thread in slow:
            thread.start()
        time.sleep(1)
        loaded = _healthz_latencies(server.base, SLOW_SECONDS)
        stop.set()
        for thread in slow:
            thread.join(timeout=5)
    return [
        "## Bounded work: `/healthz` with slow clients (served, 2 workers × 2 threads)",
        "",
        f"{SLOW_CLIENTS} clients each trickle a request body a byte per 200 ms (cut off with 408 "
        f"after 5 s, then reconnect) for {SLOW_SECONDS:.0f} s. Target: every answer within 1 s.",
        "",
        "| /healthz | answers | p50 | p99 | max |",
        "| --- | --- | --- | --- | --- |",
        _latency_row("quiet", quiet),
        _latency_row(f"with {SLOW_CLIENTS} slow clients", loaded),
        "",
    ]


def _latency_row(label: str, samples: list[float]) -> str:
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return (
        f"| {label} | {len(samples)} | {statistics.median(samples) * 1e3:.1f} ms "
        f"| {p99 * 1e3:.1f} ms | {samples[-1] * 1e3:.1f} ms |"
    )


SECTIONS = [validate_limits_section, slow_clients_section]
