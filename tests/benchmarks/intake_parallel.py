"""POST /api/referrals under load: gunicorn with 2 workers on PostgreSQL, 8 clients at once.

Each client posts referrals for distinct people (valid NHS numbers) from one referrer
organisation, back to back over keep-alive, for a fixed number of requests. Target: ≥ 300/s,
p99 ≤ 50 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import requests

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.store.testing import postgres_schema
from tests.benchmarks.intake import REFERRAL_FILE, _free_port

Median = Callable[[Callable[[], object], int], float]
CLIENTS = 8
WORKERS = 2
WARMUP = 80
PER_CLIENT = 100


def _nhs_numbers() -> Iterator[str]:
    for stem in range(900_000_000, 999_999_999):
        for check in "0123456789":
            if is_valid_nhs_number(f"{stem}{check}"):
                yield f"{stem}{check}"


def _all_cores() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def _serve(url: str, home: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "LD_ADAPTER_HOME": home,
        "LD_ADAPTER_DATABASE_URL": url,
        "LD_ADAPTER_PORT": str(port),
        "LD_ADAPTER_WORKERS": str(WORKERS),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "adapter.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_all_cores,
    )


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still starting
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


def _token(url: str, home: str) -> str:
    env = {**os.environ, "LD_ADAPTER_HOME": home, "LD_ADAPTER_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "adapter.cli", "token"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def run_load(base: str, token: str, bodies: list[dict], clients: int) -> tuple[float, list[float]]:
    """Post every body from `clients` threads; (seconds elapsed, each request's latency)."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    shares = [bodies[i::clients] for i in range(clients)]

    def client(share: list[dict]) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine = []
        start.wait()
        for body in share:
            began = time.perf_counter()
            response = session.post(f"{base}/api/referrals", json=body, timeout=30)
            mine.append(time.perf_counter() - began)
            assert response.status_code == 201, response.text
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(int(child)) for child in children)


def _bodies(count: int, numbers: Iterator[str], prefix: str) -> list[dict]:
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    bodies = []
    for i in range(count):
        body = orjson.loads(orjson.dumps(payload))
        body["local_id"] = f"{prefix}-{i}"
        body["person"]["nhs_number"] = next(numbers)
        body["person"]["local_identifiers"][0]["value"] = f"{prefix}-{i}"
        bodies.append(body)
    return bodies


def parallel_post_section(_median: Median) -> list[str]:
    """Throughput and p50/p99 of POST /api/referrals with 8 clients on 2 workers, PostgreSQL."""
    base_url = os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL")
    title = "## POST /api/referrals in parallel (PostgreSQL, 2 workers, 8 clients)"
    if not base_url:
        return [title, "", "Not measured: LD_ADAPTER_TEST_POSTGRES_URL is not set.", ""]
    numbers = _nhs_numbers()
    with tempfile.TemporaryDirectory() as home, postgres_schema(base_url) as url:
        port = _free_port()
        server = _serve(url, home, port)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base)
            token = _token(url, home)
            run_load(base, token, _bodies(WARMUP, numbers, "WARM"), CLIENTS)
            cpu_before = _cpu_seconds(server.pid)
            elapsed, latencies = run_load(
                base, token, _bodies(CLIENTS * PER_CLIENT, numbers, "LOAD"), CLIENTS
            )
            server_cpu = (_cpu_seconds(server.pid) - cpu_before) / len(latencies)
        finally:
            server.terminate()
            server.wait(timeout=15)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return [
        title,
        "",
        f"gunicorn ({WORKERS} sync workers, both cores) on a fresh PostgreSQL schema; {CLIENTS} "
        f"client threads in the benchmark process post {CLIENTS * PER_CLIENT:,} referrals for "
        f"distinct people from one referrer organisation after {WARMUP} warm-up posts; audit on, "
        "as served. "
        "Client and server share this 2-core machine.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| throughput | {len(latencies) / elapsed:,.0f} referrals/s | ≥ 300/s |",
        f"| latency p50 | {p50 * 1e3:.1f} ms | |",
        f"| latency p99 | {p99 * 1e3:.1f} ms | ≤ 50 ms |",
        f"| server CPU per referral (gunicorn workers, not PostgreSQL) | {server_cpu * 1e3:.1f} ms | |",
        "",
        "The server CPU per referral does not depend on what else the machine runs; on a shared "
        "machine the throughput and latencies do.",
        "",
    ]


SECTIONS = [parallel_post_section]
