"""The cost of the audit trail: a FHIR read, a FHIR search and a native create, audit on and off.

In process (Flask test client), so the figures are the server's own work without HTTP. PostgreSQL
runs too when LD_ADAPTER_TEST_POSTGRES_URL is set (in a throwaway schema).
Run just this section: `.venv/bin/python -m tests.benchmarks.audit`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import orjson
from flask import Flask

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.settings import Settings
from adapter.store.testing import postgres_schema

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
NHS_SEARCH = "identifier=https://fhir.nhs.uk/Id/nhs-number|9990012342"
Median = Callable[[Callable[[], object], int], float]


@contextmanager
def _app(home: Path, database_url: str, audit: bool) -> Iterator[Flask]:
    settings = Settings(home=home, base_url="http://bench", database_url=database_url, audit=audit)
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["ld_adapter"].store.dispose()


def _measure(app: Flask, median: Median) -> tuple[float, float, float]:
    """Median seconds of a FHIR read, a search by NHS number and a native create."""
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

    return median(read, 500), median(search, 300), median(create, 150)


def _databases(stack: ExitStack) -> list[tuple[str, str]]:
    """(name, URL) per database; SQLite's URL is made per run, under that run's home."""
    found = [("SQLite", "")]
    postgres = os.environ.get("LD_ADAPTER_TEST_POSTGRES_URL")
    if postgres:
        found.append(("PostgreSQL", stack.enter_context(postgres_schema(postgres))))
    return found


def audit_section(median: Median) -> list[str]:
    """p50 of a read, a search and a create with the audit trail on and off, per database."""
    rows = []
    with ExitStack() as stack:
        for name, url in _databases(stack):
            results = {}
            for audit in (False, True):
                # A fresh database per setting: the audit-on run does not read a grown store.
                home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                database = url if name == "PostgreSQL" else f"sqlite:///{home / 'store.db'}"
                with _app(home, database, audit) as app:
                    results[audit] = _measure(app, median)
                if name == "PostgreSQL":
                    _empty(url)
            for label, off, on in zip(
                ("FHIR read", "FHIR search by NHS number", "native create (POST /api/referrals)"),
                results[False],
                results[True],
                strict=True,
            ):
                rows.append(
                    f"| {name} | {label} | {off * 1e3:.2f} ms | {on * 1e3:.2f} ms | "
                    f"+{(on - off) * 1e3:.2f} ms ({on / off:.2f}×) |"
                )
    return [
        "## Audit trail cost (p50, in process, one core)",
        "",
        "Flask test client, no HTTP; each request as a client would make it (token check, scopes). "
        "Audit on: a read or search also writes and commits its AuditEvent before answering; a "
        "create writes its AuditEvent in the same transaction. `LD_ADAPTER_AUDIT=false` turns it "
        "off (for this measurement only).",
        "",
        "| database | request | audit off | audit on | cost |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _empty(url: str) -> None:
    from adapter.store import Store
    from adapter.store.testing import clear

    store = Store.from_url(url)
    clear(store)
    store.dispose()


SECTIONS = [audit_section]


if __name__ == "__main__":
    from tests.benchmarks.run import median_seconds, pin_to_one_core

    pin_to_one_core()
    print("\n".join(audit_section(median_seconds)))
