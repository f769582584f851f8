"""The store as it grows: FHIR search by NHS number and read at 1k / 10k / 100k referrals.

One app per database, its pooled connection reused throughout (a long-lived connection: on
PostgreSQL it has run the search many times at 100 stored before the store grows).
LD_ADAPTER_BENCH_QUICK=1 stops at 10k (about two minutes less).
PostgreSQL runs when LD_ADAPTER_TEST_POSTGRES_URL is set (make bench sets it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.settings import Settings
from adapter.store.testing import postgres_schema
from tests.benchmarks import store_load

Median = Callable[[Callable[[], object], int], float]
NHS = "https://fhir.nhs.uk/Id/nhs-number"
WARM_AT = 100
PREPARE_RUNS = 15


def sizes() -> list[int]:
    """Store sizes to measure at."""
    quick = os.environ.get("LD_ADAPTER_BENCH_QUICK", "") not in ("", "0")
    return [1_000, 10_000, *([] if quick else [100_000])]


def _measure(
    client: FlaskClient, headers: dict, stored: int, median: Median
) -> tuple[float, float]:
    person = stored // 2
    search_url = f"/fhir/ServiceRequest?patient:identifier={NHS}|{store_load.nhs_number(person)}"
    read_url = f"/fhir/ServiceRequest/s{person:07d}"

    def search() -> None:
        response = client.get(search_url, headers=headers)
        assert response.status_code == 200 and response.get_json()["total"] == 1, response.data

    def read() -> None:
        assert client.get(read_url, headers=headers).status_code == 200

    return median(search, 200), median(read, 300)


def _grow(database: str, url: str, home: Path, median: Median) -> list[tuple[int, float, float]]:
    # Audit off: this measures the store's search and read; the audit section measures its cost.
    settings = Settings(home=home, base_url="http://bench", database_url=url, audit=False)
    app = create_app(settings)
    store = app.extensions["ld_adapter"].store
    client = app.test_client()
    headers = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.rs'])}"}
    store_load.load(store, 0, WARM_AT)
    for _ in range(PREPARE_RUNS):  # what made psycopg prepare, and keep a small-table plan
        _measure(client, headers, WARM_AT, lambda action, _repeats: action())
    results = []
    stored = WARM_AT
    for size in sizes():
        store_load.load(store, stored, size)
        stored = size
        search, read = _measure(client, headers, stored, median)
        results.append((size, search, read))
        print(f"  {database} {size:>7,}: search {search * 1e3:.2f} ms, read {read * 1e3:.2f} ms")
    store.dispose()
    return results


def _table(database: str, results: list[tuple[int, float, float]]) -> list[str]:
    first = results[0]
    lines = [
        f"### {database}",
        "",
        "| stored referrals | search by NHS number p50 | × 1k | read p50 | × 1k |",
        "| --- | --- | --- | --- | --- |",
    ]
    for size, search, read in results:
        lines.append(
            f"| {size:,} | {search * 1e3:.2f} ms | {search / first[1]:.2f} | "
            f"{read * 1e3:.2f} ms | {read / first[2]:.2f} |"
        )
    return [*lines, ""]


def search_section(median: Median) -> list[str]:
    """Search and read latency as the store grows, on SQLite and PostgreSQL."""
    lines = [
        "## FHIR search by NHS number and read as the store grows",
        "",
        "`GET /fhir/ServiceRequest?patient:identifier=…|<nhs>` (one match) and "
        "`GET /fhir/ServiceRequest/<id>` through the Flask app (no HTTP server), on one "
        f"long-lived pooled connection that first ran the search {PREPARE_RUNS}× at "
        f"{WARM_AT} stored. Each referral is a Patient, ServiceRequest and Encounter with their "
        "search index rows (bulk-loaded from one mapped referral), then ANALYZE. Audit off "
        "(its cost is the audit section's). "
        "Target: flat, ≤ 1.5× from 1k to 100k.",
        "",
    ]
    with tempfile.TemporaryDirectory() as home:
        sqlite = _grow("SQLite", f"sqlite:///{home}/bench.db", Path(home), median)
        lines += _table("SQLite", sqlite)
    base = os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL")
    if not base:
        return [*lines, "PostgreSQL: not measured (LD_ADAPTER_TEST_POSTGRES_URL is not set).", ""]
    with tempfile.TemporaryDirectory() as home, postgres_schema(base) as url:
        lines += _table("PostgreSQL", _grow("PostgreSQL", url, Path(home), median))
    return lines


SECTIONS = [search_section]
