"""A statement slower than LD_ADAPTER_STATEMENT_TIMEOUT_MS is a quick 503, never a killed worker."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa

from adapter.errors import ServiceUnavailable
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.resources import ResourceRepository
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)

NHS_NUMBER = "9990012342"
# Seconds of work on either database, with an NHS number as a bound parameter.
_SLOW = {
    "postgresql": "SELECT pg_sleep(20) WHERE CAST(:nhs AS text) IS NOT NULL",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1e10)"
    " SELECT count(*) FROM c WHERE :nhs IS NOT NULL",
}


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # type: ignore[no-untyped-def]
    """An app whose statements may run for 300 ms."""
    return Settings(
        home=tmp_path,
        base_url="http://testserver",
        database_url=database_url,
        statement_timeout_ms=300,
    )


def _slow_search(self: ResourceRepository, *_args: object) -> None:
    """The search the database cannot answer in time (a plan gone bad, a huge table)."""
    connection = self._db
    connection.execute(sa.text(_SLOW[connection.dialect.name]), {"nhs": NHS_NUMBER})


def test_a_slow_search_is_a_503_outcome_with_nothing_of_the_query_logged(
    client, auth, monkeypatch, caplog
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ResourceRepository, "search", _slow_search)
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()

    response = client.get(
        f"/fhir/ServiceRequest?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBER}",
        headers=auth,
    )

    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["code"] for i in outcome["issue"]] == ["timeout"]
    assert NHS_NUMBER not in caplog.text
    assert "SELECT" not in caplog.text
    assert NHS_NUMBER not in response.get_data(as_text=True)


def test_the_next_request_on_the_same_worker_works(client, auth, monkeypatch):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as patched:
        patched.setattr(ResourceRepository, "search", _slow_search)
        assert client.get("/fhir/ServiceRequest", headers=auth).status_code == 503
    assert client.get("/fhir/ServiceRequest", headers=auth).status_code == 200


def test_a_write_waiting_behind_another_writer_on_sqlite_gives_up_in_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store.from_url(f"sqlite:///{tmp_path / 'busy.db'}", statement_timeout_ms=300)
    store.migrate()
    started = time.monotonic()
    with store.unit_of_work() as holder:
        holder.resources.create({"resourceType": "Patient", "id": "held"})
        with pytest.raises(ServiceUnavailable), store.unit_of_work() as waiting:
            waiting.resources.create({"resourceType": "Patient", "id": "waits"})
    assert time.monotonic() - started < 5
    store.dispose()
