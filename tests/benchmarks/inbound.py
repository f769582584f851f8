"""Receiving: accepted referral messages per second on $process-message, and the duplicate check.

A served adapter (gunicorn) receives distinct referral messages from the MPFT partner's client,
8 client threads at once over keep-alive (Python threads: they share the 2 cores with the server).
Each message passes the receiver's checks and validator, and its referral is stored with the
inbound_message row in one transaction. Target (issue 9): ≥ 250 messages/s, p99 ≤ 100 ms on
PostgreSQL. The duplicate check's cost: a replay's latency (409 before the validator), and the
store's read and unique insert on a table that already holds the messages received.
"""

from __future__ import annotations

import copy
import os
import shutil
import statistics
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
import requests

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.store import InboundMessageRecord, Store
from adapter.store.testing import postgres_schema
from tests.benchmarks.intake_parallel import WRK_REPORT_LUA, run_load, run_wrk
from tests.support.inbound import (
    OUR_ODS,
    message_headers,
    partner_token,
    partners_with_clients,
    referral_message,
)
from tests.support.served import served_adapter

Median = Callable[[Callable[[], object], int], float]
CONNECTIONS = 8
WRK_SECONDS = 10
CLIENTS = 8
WARMUP = 40
MESSAGES = 400
STORE_ROWS = 20_000
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _nhs_numbers(start: int) -> Iterator[str]:
    for stem in range(start, start + 100_000):
        for check in "0123456789":
            if is_valid_nhs_number(f"{stem}{check}"):
                yield f"{stem}{check}"


def _messages(count: int, numbers: Iterator[str], prefix: str) -> list[dict]:
    """Distinct referrals: each its own Bundle, sender's ServiceRequest id and person."""
    template = referral_message()
    out = []
    for i in range(count):
        message = copy.deepcopy(template)
        message["id"] = str(uuid.uuid4())
        for entry in message["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "ServiceRequest":
                resource["identifier"][0]["value"] = f"{prefix}-{i}"
            if resource["resourceType"] == "Patient":
                for identifier in resource["identifier"]:
                    if identifier["system"] == NHS:
                        identifier["value"] = next(numbers)
        out.append(message)
    return out


_WRK_LUA = (
    """
local numbers = {%(numbers)s}
local template = %(template)s
local headers = {["Content-Type"] = "application/fhir+json", ["Authorization"] = "Bearer %(token)s",
  ["X-Correlation-Id"] = "%(correlation)s"}
local next_index = 0
local first_refusal = nil

request = function()
  next_index = next_index + 1
  local number = numbers[(next_index - 1) %% #numbers + 1]
  local guid = string.format("%(run)s-0000-4000-8000-%%012x", next_index)
  headers["X-Request-Id"] = guid
  local body = template:gsub("__NHS__", number):gsub("__ID__", guid)
  return wrk.format("POST", "/fhir/$process-message", headers, body)
end

"""
    + WRK_REPORT_LUA
)


def _wrk_script(token: str, numbers: Iterator[str], run: str) -> str:
    """Distinct messages: Bundle id, sender's ServiceRequest id and X-Request-Id per request."""
    message = _messages(1, numbers, "__ID__")[0]
    message["id"] = "__ID__"
    for entry in message["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "ServiceRequest":
            resource["identifier"][0]["value"] = "__ID__"
        if resource["resourceType"] == "Patient":
            for identifier in resource["identifier"]:
                if identifier["system"] == NHS:
                    identifier["value"] = "__NHS__"
    template = orjson.dumps(message).decode()
    listed = ",".join(f'"{next(numbers)}"' for _ in range(2000))
    return _WRK_LUA % {
        "numbers": listed,
        "template": "[==[" + template + "]==]",
        "token": token,
        "correlation": str(uuid.uuid4()),
        "run": run,
    }


def _load(base: str, token: str, messages: list[dict]) -> tuple[float, list[float]]:
    """POST every message from CLIENTS threads; (seconds elapsed, each request's latency)."""

    def send(session: requests.Session, message: dict) -> requests.Response:
        url = f"{base}/fhir/$process-message"
        return session.post(url, json=message, headers=message_headers(token), timeout=30)

    return run_load(messages, CLIENTS, send)


@contextmanager
def _database(kind: str) -> Iterator[str | None]:
    """None for the server's own SQLite file, or a fresh PostgreSQL schema's URL."""
    if kind == "sqlite":
        yield None
        return
    with postgres_schema(os.environ["LD_ADAPTER_TEST_POSTGRES_URL"]) as url:
        yield url


def _served_run(kind: str, workers: int, median: Median) -> dict:
    numbers = _nhs_numbers(900_000_000 if kind == "sqlite" else 910_000_000)
    with tempfile.TemporaryDirectory() as home, _database(kind) as url:
        settings = {
            "LD_ADAPTER_WORKERS": str(workers),
            "LD_ADAPTER_ODS_CODE": OUR_ODS,
            "LD_ADAPTER_PARTNERS": str(partners_with_clients(Path(home))),
            **({"LD_ADAPTER_DATABASE_URL": url} if url else {}),
        }
        with served_adapter(Path(home), settings) as server:
            token = partner_token(server)
            _load(server.base, token, _messages(WARMUP, numbers, f"warm-{kind}"))
            if shutil.which("wrk"):
                script = _wrk_script(token, numbers, uuid.uuid4().hex[:8])
                loaded = run_wrk(server.base, script, CONNECTIONS, WRK_SECONDS)
                assert loaded["refused"] is None and not loaded["errors"], loaded
                load = {
                    "rate": loaded["requests"] / loaded["seconds"],
                    "p50": loaded["p50"],
                    "p99": loaded["p99"],
                    "driver": "wrk",
                }
            else:
                elapsed, latencies = _load(server.base, token, _messages(MESSAGES, numbers, kind))
                ordered = sorted(latencies)
                load = {
                    "rate": len(ordered) / elapsed,
                    "p50": statistics.median(ordered),
                    "p99": ordered[int(len(ordered) * 0.99) - 1],
                    "driver": "Python threads",
                }
            replay = _messages(1, numbers, f"replay-{kind}")[0]
            headers = message_headers(token)
            session = requests.Session()
            first = session.post(
                f"{server.base}/fhir/$process-message", json=replay, headers=headers
            )
            assert first.status_code == 201, first.text

            def post_replay() -> None:
                response = session.post(
                    f"{server.base}/fhir/$process-message", json=replay, headers=headers
                )
                assert response.status_code == 409, response.text

            load["duplicate"] = median(post_replay, 200)
    return load


def _store_costs(kind: str, median: Median) -> tuple[float, float]:
    """Median (read by request id, unique insert) with STORE_ROWS messages already stored."""
    with tempfile.TemporaryDirectory() as home, _database(kind) as url:
        store = Store.from_url(url or f"sqlite:///{home}/bench.db")
        store.migrate()
        now = datetime.now(UTC)

        def record(i: int | str) -> InboundMessageRecord:
            rid = str(uuid.uuid4())
            return InboundMessageRecord(
                rid, rid, rid, f"b-{i}", "servicerequest-request", "new", "s", "e", now
            )

        with store.unit_of_work() as uow:
            for i in range(STORE_ROWS):
                uow.inbound.add(record(i))
        known = record("known")
        with store.unit_of_work() as uow:
            uow.inbound.add(known)

        def read() -> None:
            with store.unit_of_work(read_only=True) as uow:
                uow.inbound.get_by_request_id(known.request_id)

        def insert() -> None:
            with store.unit_of_work() as uow:
                uow.inbound.add(record("new"))

        costs = median(read, 500), median(insert, 500)
        store.dispose()
    return costs


def inbound_section(median: Median) -> list[str]:
    """$process-message on SQLite (1 worker) and PostgreSQL (2 workers) when configured."""
    runs = [("SQLite", "sqlite", 1)]
    if os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL"):
        runs.append(("PostgreSQL", "postgres", 2))
    lines = [
        "## Receiving referral messages (`POST /fhir/$process-message`)",
        "",
        "gunicorn serving distinct referral messages from a partner's client: wrk with "
        f"{CONNECTIONS} connections for {WRK_SECONDS} s (else {CLIENTS} Python client threads, "
        "which share the cores with the server). Each passes the receiver's checks "
        "and the validator; the referral is stored with its inbound_message row in one "
        "transaction. A replay (same X-Request-Id) is refused before the validator. Target: "
        "≥ 250 messages/s with p99 ≤ 100 ms on PostgreSQL.",
        "",
        "| database | workers | load | accepted messages/s | p50 | p99 | replay (409), median |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    costs = []
    for name, kind, workers in runs:
        run = _served_run(kind, workers, median)
        lines.append(
            f"| {name} | {workers} | {run['driver']} | {run['rate']:,.0f} "
            f"| {run['p50'] * 1e3:.1f} ms "
            f"| {run['p99'] * 1e3:.1f} ms | {run['duplicate'] * 1e3:.1f} ms |"
        )
        read, insert = _store_costs(kind, median)
        costs.append(f"| {name} | {read * 1e3:.2f} ms | {insert * 1e3:.2f} ms |")
    lines += [
        "",
        f"The duplicate check in the store, with {STORE_ROWS:,} messages already received "
        "(each in its own transaction): the read a replay is answered by, and the insert whose "
        "unique request_id decides races.",
        "",
        "| database | read by X-Request-Id | insert (unique check) |",
        "| --- | --- | --- |",
        *costs,
        "",
    ]
    return lines


SECTIONS = [inbound_section]
