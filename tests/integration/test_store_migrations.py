"""Upgrading a database that already holds records: what earlier releases stored stays findable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from adapter.search.definitions import PARAMETERS_FILE, SearchRegistry
from adapter.search.query import ReferenceCriterion, SearchQuery, Token, TokenCriterion
from adapter.store import Store
from adapter.store.store import MIGRATIONS
from adapter.store.tables import referral
from adapter.store.testing import postgres_schema, schema_drift
from adapter.store.versioned import record_row
from tests.integration.store_fixtures import DATABASES, POSTGRES_ENV
from tests.integration.test_store_onward_referrals import onward
from tests.integration.test_store_referrals import record

PATHWAYS = "https://ld-adapter.github.io/fhir/CodeSystem/ld-onward-referral"
ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "e1",
    "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
    "subject": {"reference": "Patient/p1"},
}


@contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all: a new SQLite file or a new PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base) as url:
        yield url


def upgrade_to(store: Store, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.mark.parametrize("kind", DATABASES)
def test_upgrading_indexes_the_patient_of_encounters_stored_before(
    kind: str, tmp_path: Path
) -> None:
    document = orjson.loads(PARAMETERS_FILE.read_bytes())
    document["resources"]["Encounter"] = []  # as release 0003 indexed Encounters: no `patient`
    with empty_database(kind, tmp_path) as url:
        old = Store.from_url(url, SearchRegistry(document))
        upgrade_to(old, "0003")
        with old.unit_of_work() as uow:
            uow.resources.create(ENCOUNTER)
        old.dispose()
        query = SearchQuery("Encounter", (ReferenceCriterion("patient", (("Patient", "p1"),)),))
        store = Store.from_url(url)
        with store.unit_of_work(read_only=True) as uow:
            assert uow.resources.search("Encounter", query).total == 0

        store.migrate()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.resources.search("Encounter", query).total == 1
        store.dispose()


@pytest.mark.parametrize("kind", DATABASES)
def test_upgrading_indexes_the_pathways_of_services_stored_before(
    kind: str, tmp_path: Path
) -> None:
    document = orjson.loads(PARAMETERS_FILE.read_bytes())
    document["resources"]["HealthcareService"] = [  # as release 0005 indexed them: identifier only
        p for p in document["resources"]["HealthcareService"] if p["name"] == "identifier"
    ]
    service = {
        "resourceType": "HealthcareService",
        "id": "crisis",
        "type": [{"coding": [{"system": PATHWAYS, "code": "crisis-team"}]}],
    }
    with empty_database(kind, tmp_path) as url:
        old = Store.from_url(url, SearchRegistry(document))
        upgrade_to(old, "0005")
        with old.unit_of_work() as uow:
            uow.resources.create(service)
        old.dispose()
        query = SearchQuery(
            "HealthcareService",
            (TokenCriterion("service-type", (Token(PATHWAYS, "crisis-team"),)),),
        )
        store = Store.from_url(url)
        store.migrate()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.resources.search("HealthcareService", query).total == 1
        store.dispose()


@pytest.mark.parametrize("kind", DATABASES)
def test_upgrading_gives_onward_referrals_stored_before_no_outcomes(
    kind: str, tmp_path: Path
) -> None:
    with empty_database(kind, tmp_path) as url:
        store = Store.from_url(url)
        upgrade_to(store, "0006")
        with store.engine.begin() as connection:  # as release 0006 stored it: no outcomes column
            row = {k: v for k, v in record_row(onward()).items() if k != "outcomes"}
            connection.execute(referral.insert(), record_row(record()))
            connection.execute(sa.table("onward_referral", *map(sa.column, row)).insert(), row)
        store.migrate()
        with store.unit_of_work(read_only=True) as uow:
            stored = uow.onward_referrals.get("o1")
            assert stored is not None and stored.outcomes == []
            assert uow.inbound.get_by_request_id("any") is None
        assert schema_drift(store) == []
        store.dispose()
