"""Search through the store on SQLite and PostgreSQL: index upkeep and every criterion kind."""

from __future__ import annotations

import pytest

from adapter.search import SearchRegistry, default_registry
from adapter.search.parse import parse_search
from adapter.search.query import SearchPage
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import NHS, PATIENTS, SERVICE_REQUESTS


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.unit_of_work() as uow:
        for resource in [*PATIENTS, *SERVICE_REQUESTS]:
            uow.resources.create(resource)
        uow.resources.create(
            {"resourceType": "Patient", "id": "p4", "name": [{"family": "100%_Real"}]}
        )
    return store


def search(store: Store, resource_type: str, *params: tuple[str, str]) -> SearchPage:
    query = parse_search(resource_type, list(params), default_registry()).query
    with store.unit_of_work() as uow:
        return uow.resources.search(resource_type, query)


def found(store: Store, resource_type: str, *params: tuple[str, str]) -> set[str]:
    return {r["id"] for r in search(store, resource_type, *params).resources}


def test_each_kind_of_criterion(seeded: Store) -> None:
    assert found(seeded, "ServiceRequest", ("patient:identifier", f"{NHS}|9990012342")) == {
        "s1",
        "s2",
    }
    assert found(seeded, "ServiceRequest", ("patient:identifier", f"{NHS}|9990037027")) == {"s4"}
    assert found(seeded, "ServiceRequest", ("subject", "Patient/p2")) == {"s3"}
    assert found(seeded, "ServiceRequest", ("status", "completed")) == {"s2"}
    assert found(seeded, "ServiceRequest", ("authored", "2026-11-22")) == {"s2"}
    assert found(seeded, "ServiceRequest", ("authored", "lt2026-11-20T09:00:01Z")) == {
        "s1",
        "s3",
        "s4",
    }
    assert found(seeded, "Patient", ("family", "sm")) == {"p1", "p2"}
    assert found(seeded, "Patient", ("birthdate", "gt1990")) == {"p3"}
    assert found(seeded, "Patient", ("_id", "p2,p3")) == {"p2", "p3"}


def test_like_wildcards_in_a_name_are_literal(seeded: Store) -> None:
    assert found(seeded, "Patient", ("family", "100%_")) == {"p4"}
    assert found(seeded, "Patient", ("family", "1%")) == set()
    assert found(seeded, "Patient", ("family:contains", "_r")) == {"p4"}


def test_the_index_follows_updates(seeded: Store) -> None:
    with seeded.unit_of_work() as uow:
        current = uow.resources.read("ServiceRequest", "s1")
        uow.resources.update(
            {**current, "status": "revoked", "subject": {"reference": "Patient/p3"}}
        )
    assert found(seeded, "ServiceRequest", ("status", "active")) == {"s3"}
    assert found(seeded, "ServiceRequest", ("patient", "p3")) == {"s1"}
    assert found(seeded, "ServiceRequest", ("patient", "p1")) == {"s2"}


def test_pages_are_stable_and_includes_are_distinct(seeded: Store) -> None:
    first = search(
        seeded, "ServiceRequest", ("_count", "2"), ("_include", "ServiceRequest:patient")
    )
    second = search(
        seeded,
        "ServiceRequest",
        ("_count", "2"),
        ("_offset", "2"),
        ("_include", "ServiceRequest:patient"),
    )
    assert first.total == second.total == 4
    ids = [r["id"] for r in first.resources + second.resources]
    assert sorted(ids) == ["s1", "s2", "s3", "s4"]
    for page in (first, second):
        included = [r["id"] for r in page.included]
        assert len(included) == len(set(included))
        wanted = {
            r["subject"]["reference"].split("/")[1]
            for r in page.resources
            if "reference" in r["subject"]
        }
        assert set(included) == wanted


def test_reindex_applies_new_search_parameters(store: Store) -> None:
    without_family = {
        "resources": {
            "Patient": [
                {
                    "name": "birthdate",
                    "type": "date",
                    "expression": "Patient.birthDate",
                    "definition": "x",
                }
            ]
        }
    }
    old = Store(store.engine, SearchRegistry(without_family))
    with old.unit_of_work() as uow:
        uow.resources.create(PATIENTS[0])
    assert found(store, "Patient", ("family", "smith")) == set()
    with store.unit_of_work() as uow:
        assert uow.resources.reindex() == 1
    assert found(store, "Patient", ("family", "smith")) == {"p1"}
