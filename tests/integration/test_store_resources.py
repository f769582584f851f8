"""ResourceRepository on SQLite and PostgreSQL: versions, history, preconditions, rollback."""

from __future__ import annotations

import os

import pytest

from adapter.errors import Conflict, NotFound, PreconditionFailed
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import POSTGRES_ENV

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def patient(pid: str = "p1", nhs_number: str = "9990012342", family: str = "Smith") -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": NHS, "value": nhs_number}],
        "name": [{"family": family, "given": ["Alex"]}],
        "birthDate": "1990-04-01",
    }


def test_create_sets_version_1_and_a_utc_timestamp(store: Store) -> None:
    with store.unit_of_work() as uow:
        stored = uow.resources.create(patient())
    assert stored["meta"]["versionId"] == "1"
    assert stored["meta"]["lastUpdated"].endswith("+00:00")
    with store.unit_of_work() as uow:
        assert uow.resources.read("Patient", "p1") == stored


def test_create_twice_is_a_conflict(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create(patient())
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.resources.create(patient())


def test_update_keeps_every_version_newest_first(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create(patient())
        second = uow.resources.update(patient(family="Jones"), expected_version="1")
    assert second["meta"]["versionId"] == "2"
    with store.unit_of_work() as uow:
        history = uow.resources.history("Patient", "p1")
        first = uow.resources.vread("Patient", "p1", "1")
        assert uow.resources.vread("Patient", "p1", "3") is None
    assert [v["meta"]["versionId"] for v in history] == ["2", "1"]
    assert first is not None and first["name"][0]["family"] == "Smith"
    assert history[0]["name"][0]["family"] == "Jones"


def test_update_with_a_stale_version_is_refused(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create(patient())
        uow.resources.update(patient(family="Jones"))
    with pytest.raises(PreconditionFailed), store.unit_of_work() as uow:
        uow.resources.update(patient(family="Brown"), expected_version="1")
    with store.unit_of_work() as uow:
        assert uow.resources.read("Patient", "p1")["name"][0]["family"] == "Jones"


def test_update_of_a_missing_resource_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        uow.resources.update(patient())


def test_upsert_only_versions_real_changes(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.upsert(patient())
    with store.unit_of_work() as uow:
        again = uow.resources.upsert({**patient(), "meta": {"versionId": "9"}})
    assert again["meta"]["versionId"] == "1"
    with store.unit_of_work() as uow:
        changed = uow.resources.upsert(patient(family="Jones"))
    assert changed["meta"]["versionId"] == "2"


def test_an_error_rolls_back_everything_in_the_unit_of_work(store: Store) -> None:
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.resources.create(patient("p2"))
        uow.resources.update(patient("p2", family="Jones"))
        uow.resources.create(patient("p2"))
    with store.unit_of_work() as uow:
        assert uow.resources.read("Patient", "p2") is None
        assert uow.resources.history("Patient", "p2") == []
        assert uow.resources.find_by_identifier("Patient", NHS, "9990012342") is None


def test_find_by_identifier_follows_the_current_version(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create(patient())
        uow.resources.update(patient(nhs_number="9990024685"))
    with store.unit_of_work() as uow:
        assert uow.resources.find_by_identifier("Patient", NHS, "9990012342") is None
        found = uow.resources.find_by_identifier("Patient", NHS, "9990024685")
        assert uow.resources.find_by_identifier("Patient", "other-system", "9990024685") is None
    assert found is not None and found["id"] == "p1"


def test_the_stored_json_is_kept_as_given(store: Store) -> None:
    given = {**patient(), "extension": [{"url": "https://example.org/x", "valueDecimal": 1.5}]}
    given["name"][0]["given"] = ["Zoë", "Ann-Marie"]
    with store.unit_of_work() as uow:
        uow.resources.create(given)
    with store.unit_of_work() as uow:
        stored = uow.resources.read("Patient", "p1")
    assert stored is not None
    assert {k: v for k, v in stored.items() if k != "meta"} == given


@pytest.mark.postgres
def test_a_plain_postgres_url_uses_psycopg_3() -> None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    store = Store.from_url(url.replace("postgresql+psycopg://", "postgres://", 1))
    assert store.engine.dialect.driver == "psycopg"
    assert store.ping()
    store.dispose()
