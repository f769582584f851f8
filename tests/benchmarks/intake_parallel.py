"""POST /api/referrals under load: gunicorn with 2 workers on PostgreSQL, 8 clients at once.

Each client posts referrals for distinct people (valid NHS numbers) from one referrer
organisation, back to back over keep-alive, for a fixed number of requests. Target: ≥ 300/s,
p99 ≤ 50 ms.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import requests

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.store.testing import postgres_schema
from tests.benchmarks.intake import REFERRAL_FILE
from tests.support.served import served_adapter

Median = Callable[[Callable[[], object], int], float]
CLIENTS = 8
WORKERS = 2
WARMUP = 80
PER_CLIENT = 100
WRK_SECONDS = 15
WARM_SECONDS = 4
APPLICATION_NAME = "ld-intake-bench"


def _nhs_numbers() -> Iterator[str]:
    for stem in range(900_000_000, 999_999_999):
        for check in "0123456789":
            if is_valid_nhs_number(f"{stem}{check}"):
                yield f"{stem}{check}"


def _all_cores() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


Send = Callable[[requests.Session, dict], requests.Response]


def run_load(bodies: list[dict], clients: int, send: Send) -> tuple[float, list[float]]:
    """`send` every body from `clients` threads, each with its own session; (seconds, latencies).

    Each answer must be 201. wrk is preferred (Python client threads share the cores with the
    server); this is the fallback when it is not installed.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    shares = [bodies[i::clients] for i in range(clients)]

    def client(share: list[dict]) -> None:
        session = requests.Session()
        mine = []
        start.wait()
        for body in share:
            began = time.perf_counter()
            response = send(session, body)
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


# What every wrk script of these benchmarks ends with: run_wrk reads its RESULT and REFUSED lines.
WRK_REPORT_LUA = """
response = function(status, _headers, body)
  if status ~= 201 and first_refusal == nil then
    first_refusal = status .. " " .. body
  end
end

done = function(summary, latency, _requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
  if first_refusal then io.write("REFUSED " .. first_refusal .. "\\n") end
end
"""
_WRK_LUA = (
    """
local numbers = {%(numbers)s}
local template = %(template)s
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local next_index = 0
local first_refusal = nil

request = function()
  next_index = next_index + 1
  local number = numbers[(next_index - 1) %% #numbers + 1]
  local id = "%(prefix)s-" .. next_index
  local body = template:gsub("__NHS__", number):gsub("__ID__", id)
  return wrk.format("POST", "/api/referrals", headers, body)
end

"""
    + WRK_REPORT_LUA
)


def _wrk_script(token: str, numbers: Iterator[str], count: int, prefix: str) -> str:
    """A wrk Lua script posting `count` distinct people (then reusing numbers, never local ids)."""
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    payload["local_id"] = "__ID__"
    payload["person"]["nhs_number"] = "__NHS__"
    payload["person"]["local_identifiers"][0]["value"] = "__ID__"
    template = orjson.dumps(payload).decode()
    listed = ",".join(f'"{next(numbers)}"' for _ in range(count))
    return _WRK_LUA % {
        "numbers": listed,
        "template": "[==[" + template + "]==]",
        "token": token,
        "prefix": prefix,
    }


def run_wrk(base: str, script: str, connections: int, seconds: int) -> dict:
    """Run wrk with one thread for `seconds`; requests, errors and latencies (seconds)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", lua.name, base]
        # Not pinned with the benchmark process: wrk, like the server, may use both cores.
        done = subprocess.run(
            command, check=True, capture_output=True, text=True, preexec_fn=_all_cores
        )
        out = done.stdout + done.stderr
    results = [row for row in out.splitlines() if row.startswith("RESULT ")]
    if not results:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    line = results[0]
    requests_done, micros, errors, p50, p99, worst = (int(v) for v in line.split()[1:])
    refused = [row for row in out.splitlines() if row.startswith("REFUSED ")]
    return {
        "requests": requests_done,
        "seconds": micros / 1e6,
        "errors": errors,
        "p50": p50 / 1e6,
        "p99": p99 / 1e6,
        "max": worst / 1e6,
        "refused": refused[0] if refused else None,
    }


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


def _backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving this benchmark's server (same machine)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            pids = connection.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION_NAME},
            ).scalars()
            return {pid: _cpu_seconds(pid) for pid in pids}
    finally:
        engine.dispose()


def _warm_up(base: str, token: str, numbers: Iterator[str]) -> None:
    """Load the first referrals (and warm each worker), with wrk if installed."""
    if shutil.which("wrk"):
        run_wrk(
            base, _wrk_script(token, numbers, 600 * WARM_SECONDS, "WARM"), CLIENTS, WARM_SECONDS
        )
    else:
        run_load(_bodies(WARMUP, numbers, "WARM"), CLIENTS, _poster(base, token))


def _poster(base: str, token: str) -> Send:
    """POST a native referral with the bearer token."""

    def post(session: requests.Session, body: dict) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return session.post(f"{base}/api/referrals", json=body, headers=headers, timeout=30)

    return post


def _load(base: str, token: str, numbers: Iterator[str]) -> dict:
    """The measured load: wrk if installed, else Python threads."""
    if shutil.which("wrk"):
        script = _wrk_script(token, numbers, 600 * WRK_SECONDS, "LOAD")
        return run_wrk(base, script, CLIENTS, WRK_SECONDS)
    bodies = _bodies(CLIENTS * PER_CLIENT, numbers, "LOAD")
    elapsed, latencies = run_load(bodies, CLIENTS, _poster(base, token))
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "errors": 0,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "refused": None,
    }


def measure_intake(base_url: str) -> dict:
    """Serve on a fresh schema and load it; the load's figures plus CPU per referral."""
    numbers = _nhs_numbers()
    with tempfile.TemporaryDirectory() as home, postgres_schema(base_url) as schema_url:
        url = sa_url_with_name(schema_url)
        settings = {"LD_ADAPTER_DATABASE_URL": url, "LD_ADAPTER_WORKERS": str(WORKERS)}
        with served_adapter(Path(home), settings, preexec_fn=_all_cores) as server:
            token = server.token()
            _warm_up(server.base, token, numbers)
            analyze(url)  # after loading: statistics of a near-empty store mislead the planner
            cpu_before, backends_before = _cpu_seconds(server.pid), _backend_cpu(url)
            result = _load(server.base, token, numbers)
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            backends = _backend_cpu(url)
    database_cpu = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends.items())
    done = max(result["requests"], 1)
    return {**result, "server_cpu": server_cpu / done, "database_cpu": database_cpu / done}


def sa_url_with_name(url: str) -> str:
    """The URL with an application_name, so the server's PostgreSQL backends can be found."""
    import sqlalchemy as sa

    return (
        sa.make_url(url)
        .update_query_dict({"application_name": APPLICATION_NAME})
        .render_as_string(hide_password=False)
    )


def analyze(url: str) -> None:
    """ANALYZE the migrated tables (autovacuum is off on this machine)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def parallel_post_section(_median: Median) -> list[str]:
    """Throughput and p50/p99 of POST /api/referrals with 8 clients on 2 workers, PostgreSQL."""
    base_url = os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL")
    title = "## POST /api/referrals in parallel (PostgreSQL, 2 workers, 8 clients)"
    if not base_url:
        return [title, "", "Not measured: LD_ADAPTER_TEST_POSTGRES_URL is not set.", ""]
    result = measure_intake(base_url)
    if shutil.which("wrk"):
        client = (
            f"wrk (one thread, {CLIENTS} keep-alive connections, a Lua script giving each "
            f"request a distinct valid NHS number and local_id) for {WRK_SECONDS} s after "
            f"{WARM_SECONDS} s of warm-up"
        )
    else:
        client = (
            f"{CLIENTS} Python client threads (wrk is not installed) post "
            f"{CLIENTS * PER_CLIENT:,} referrals after {WARMUP} warm-up posts"
        )
    return [
        title,
        "",
        f"gunicorn ({WORKERS} workers, both cores) on a fresh PostgreSQL schema, ANALYZEd after the warm-up; "
        f"{client}; distinct people from one referrer organisation; audit on, as served. "
        "Client, server and PostgreSQL share this 2-core machine.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| throughput | {result['requests'] / result['seconds']:,.0f} referrals/s | ≥ 300/s |",
        f"| latency p50 | {result['p50'] * 1e3:.1f} ms | |",
        f"| latency p99 | {result['p99'] * 1e3:.1f} ms | ≤ 50 ms |",
        f"| failed requests | {result['errors']} of {result['requests']:,} | 0 |",
        f"| server CPU per referral (gunicorn workers) | {result['server_cpu'] * 1e3:.1f} ms | |",
        f"| PostgreSQL CPU per referral (the server's backends) | "
        f"{result['database_cpu'] * 1e3:.1f} ms | |",
        "",
        *([f"First refusal: {result['refused']}", ""] if result.get("refused") else []),
        "The CPU per referral does not depend on what else the machine runs; on a shared "
        "machine the throughput and latencies do. 300/s on 2 cores leaves 6.7 ms of CPU per "
        "referral for server, PostgreSQL and client together.",
        "",
    ]


SECTIONS = [parallel_post_section]
