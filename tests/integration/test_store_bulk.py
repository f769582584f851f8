"""New resources stored together: every row where reads and searches find it, in one statement."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from adapter.errors import Conflict
from adapter.search.parse import parse_search
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import NHS


def _patient(number: str, birth_date: str) -> dict:
    return {
        "resourceType": "Patient",
        "id": f"p{number}",
        "identifier": [{"system": NHS, "value": number}, {"value": f"no-system-{number}"}],
        "birthDate": birth_date,
    }


def _encounter(patient: str) -> dict:
    return {
        "resourceType": "Encounter",
        "id": f"e-{patient}",
        "status": "in-progress",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": "2025-03-14T09:42:00+01:00"},
    }


def test_created_together_each_is_read_versioned_and_searchable(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create_many([_patient("9990012342", "1988-06-02"), _encounter("p9990012342")])
    with store.unit_of_work() as uow:
        patient = uow.resources.read("Patient", "p9990012342")
        assert patient is not None and patient["meta"]["versionId"] == "1"
        assert uow.resources.history("Encounter", "e-p9990012342")[0]["status"] == "in-progress"
        assert uow.resources.find_by_identifier("Patient", None, "no-system-9990012342")
        for resource_type, parameters in (
            ("Patient", [("birthdate", "1988-06-02")]),
            ("Encounter", [("date", "2025-03-14")]),
            ("Encounter", [("subject", "Patient/p9990012342")]),
        ):
            query = parse_search(resource_type, parameters, store.registry).query
            assert uow.resources.search(resource_type, query).total == 1, parameters


def test_a_taken_id_refuses_the_whole_batch(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.resources.create_many([_patient("9990012342", "1988-06-02")])
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.resources.create_many([_encounter("p9990012342"), _patient("9990012342", "1990-01-01")])
    with store.unit_of_work() as uow:
        assert uow.resources.read("Encounter", "e-p9990012342") is None
        assert uow.resources.read("Patient", "p9990012342")["birthDate"] == "1988-06-02"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_on_postgres_a_batch_is_one_statement(store: Store) -> None:
    """Each statement is a round trip: a referral's resources used to take six, its audit seven."""
    statements: list[str] = []

    def _count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(store.engine, "before_cursor_execute", _count)
    try:
        with store.unit_of_work() as uow:
            uow.resources.create_many(
                [_patient("9990012342", "1988-06-02"), _encounter("p9990012342")]
            )
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", _count)
    assert len(statements) == 1, statements
