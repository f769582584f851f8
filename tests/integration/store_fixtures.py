"""Store fixtures on SQLite and PostgreSQL (use with a star import), and sample resources.

PostgreSQL runs when LD_ADAPTER_TEST_POSTGRES_URL is set (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test): one schema per test run, emptied per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.store import Store
from adapter.store.testing import clear, postgres_schema

POSTGRES_ENV = "LD_ADAPTER_TEST_POSTGRES_URL"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL to this run's own migrated PostgreSQL schema (skips the test without the env var)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        store = Store.from_url(url)
        store.migrate()
        store.dispose()
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or this run's migrated PostgreSQL schema, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    store = Store.from_url(url)
    clear(store)
    store.dispose()
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated Store on each database."""
    store = Store.from_url(database_url)
    store.migrate()
    yield store
    store.dispose()


# Sample resources for search tests: three patients, four service requests (s4 refers to its
# patient by NHS number only, a logical reference).
NHS = "https://fhir.nhs.uk/Id/nhs-number"
LOCAL = "https://ld-adapter.github.io/fhir/Id/local-referral-id"


def patient(pid: str, nhs_number: str, family: str, birth_date: str) -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": NHS, "value": nhs_number}],
        "name": [{"family": family, "given": ["Sam"]}],
        "birthDate": birth_date,
    }


def service_request(sid: str, subject: dict, status: str, authored: str) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": sid,
        "identifier": [{"system": LOCAL, "value": f"L-{sid}"}],
        "status": status,
        "intent": "order",
        "subject": subject,
        "authoredOn": authored,
    }


PATIENTS = [
    patient("p1", "9990012342", "Smith", "1990-04-01"),
    patient("p2", "9990024685", "Smythe", "1985-12-31"),
    patient("p3", "9000000009", "Jones", "2001-06-15"),
]
SERVICE_REQUESTS = [
    service_request("s1", {"reference": "Patient/p1"}, "active", "2026-11-20T09:00:00+00:00"),
    service_request("s2", {"reference": "Patient/p1"}, "completed", "2026-11-21T23:30:00-01:00"),
    service_request("s3", {"reference": "Patient/p2"}, "active", "2026-10-01"),
    service_request(
        "s4", {"identifier": {"system": NHS, "value": "9990037027"}}, "draft", "2025-01-01"
    ),
]


def seed(store: Store) -> None:
    """Store the sample patients and service requests."""
    with store.unit_of_work() as uow:
        for resource in [*PATIENTS, *SERVICE_REQUESTS]:
            uow.resources.create(resource)
