"""The cost of the audit trail: a FHIR read, a FHIR search and a native create, audit on and off.

In process (Flask test client), so the figures are the server's own work without HTTP. PostgreSQL
runs too when LD_ADAPTER_TEST_POSTGRES_URL is set (in a throwaway schema).
Run just this section: `.venv/bin/python -m tests.benchmarks.audit`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import orjson
from flask import Flask

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.services.audit import Entity, Requestor, audit_event, record
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork
from adapter.store.testing import postgres_schema

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
NHS_SEARCH = "identifier=https://fhir.nhs.uk/Id/nhs-number|9990012342"
POSTGRES_ENV = "LD_ADAPTER_TEST_POSTGRES_URL"
LABELS = ("FHIR read", "FHIR search by NHS number", "native create (POST /api/referrals)")
Median = Callable[[Callable[[], object], int], float]


@contextmanager
def _app(home: Path, database_url: str, audit: bool) -> Iterator[Flask]:
    settings = Settings(home=home, base_url="http://bench", database_url=database_url, audit=audit)
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["ld_adapter"].store.dispose()


def _actions(app: Flask) -> tuple[Callable[[], object], ...]:
    """A FHIR read, a search by NHS number and a native create, on a store with one referral."""
    settings = app.extensions["ld_adapter"].settings
    headers = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.cruds'])}"}
    client = app.test_client()
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    counter = iter(range(10**9))

    def create() -> dict:
        body = {**payload, "local_id": f"AUDIT-BENCH-{next(counter)}"}
        response = client.post("/api/referrals", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return dict(response.get_json())

    patient = create()["fhir"]["patient"]

    def read() -> None:
        assert client.get(f"/fhir/{patient}", headers=headers).status_code == 200

    def search() -> None:
        assert client.get(f"/fhir/Patient?{NHS_SEARCH}", headers=headers).status_code == 200

    return read, search, create


def _interleaved(off: Callable[[], object], on: Callable[[], object], repeats: int) -> tuple:
    """Medians of two actions timed turn about, so load from other processes hits both alike."""
    samples: tuple[list[float], list[float]] = ([], [])
    for turn in range(repeats + 20):
        for action, kept in ((off, samples[0]), (on, samples[1])):
            started = time.perf_counter()
            action()
            if turn >= 20:
                kept.append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _write(store: Store, commit: bool) -> None:
    """Store one read's AuditEvent in a transaction of its own; commit it or roll it back."""
    entities = [Entity("ServiceRequest/sr-1/_history/1"), Entity("Patient/p-1")]
    event = audit_event("read", "0", Requestor("bench", "127.0.0.1"), "http://bench/fhir", entities)
    with store.engine.connect() as connection:
        transaction = connection.begin()
        record(UnitOfWork(connection, store.registry), event)
        if commit:
            transaction.commit()
        else:
            transaction.rollback()


@contextmanager
def _database(name: str, home: Path) -> Iterator[str]:
    if name == "SQLite":
        yield f"sqlite:///{home / 'store.db'}"
    else:
        with postgres_schema(os.environ[POSTGRES_ENV]) as url:
            yield url


def audit_section(_median: Median) -> list[str]:
    """p50 of a read, a search and a create with the audit trail on and off, per database."""
    rows = []
    names = ["SQLite", *(["PostgreSQL"] if os.environ.get(POSTGRES_ENV) else [])]
    for name in names:
        with ExitStack() as stack:
            apps = []
            for audit in (False, True):
                home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                url = stack.enter_context(_database(name, home))
                apps.append(stack.enter_context(_app(home, url, audit)))
            pairs = zip(_actions(apps[0]), _actions(apps[1]), (500, 300, 150), strict=True)
            for label, (off, on, repeats) in zip(LABELS, pairs, strict=True):
                p50_off, p50_on = _interleaved(off, on, repeats)
                rows.append(
                    f"| {name} | {label} | {p50_off * 1e3:.2f} ms | {p50_on * 1e3:.2f} ms | "
                    f"+{(p50_on - p50_off) * 1e3:.2f} ms ({p50_on / p50_off:.2f}×) |"
                )
            store = apps[1].extensions["ld_adapter"].store
            unsaved, saved = _interleaved(
                partial(_write, store, False), partial(_write, store, True), 300
            )
            rows.append(
                f"| {name} | one AuditEvent written, rolled back / committed | {unsaved * 1e3:.2f} ms "
                f"| {saved * 1e3:.2f} ms | commit: +{(saved - unsaved) * 1e3:.2f} ms |"
            )
    return [
        "## Audit trail cost (p50, in process, one core)",
        "",
        "Flask test client, no HTTP; each request as a client makes it (token check, scopes). "
        "Two apps, audit off and on (`LD_ADAPTER_AUDIT`), each on its own database, timed turn "
        "about. Audit on: a read or search also writes and commits (one fsync) its AuditEvent "
        "before answering; a create writes its AuditEvent in the same transaction. The last row "
        "of each database splits one AuditEvent's cost into its statements and its commit.",
        "",
        "| database | request | audit off | audit on | cost |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


SECTIONS = [audit_section]


if __name__ == "__main__":
    from tests.benchmarks.run import median_seconds, pin_to_one_core

    pin_to_one_core()
    print("\n".join(audit_section(median_seconds)))
