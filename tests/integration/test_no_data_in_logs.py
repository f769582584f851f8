"""No SQL parameters or patient data in any log line, even when the database fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapter import create_app
from adapter.auth import mint_dev_token
from adapter.settings import Settings
from adapter.store import Store
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import NHS

NHS_NUMBER = "9990012342"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The shared app fixture, on SQLite and on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


def _failing_insert(store: Store) -> None:
    """An INSERT the database refuses, with patient data among its parameters."""
    content = f'{{"identifier": [{{"value": "{NHS_NUMBER}"}}]}}'
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO resource (resource_type, id, content) VALUES (:t, :i, :c)"),
            {"t": "Patient", "i": "p1", "c": content},
        )


def test_database_errors_do_not_quote_the_sql_parameters(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError) as failure:
        _failing_insert(store)
    assert "[SQL parameters hidden" in str(failure.value)
    assert "'Patient', 'p1'" not in str(failure.value)


def test_a_database_error_in_a_request_logs_no_patient_data(
    app, client, auth, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL's own message quotes the failing row ("Failing row contains ..."), so the log
    # must leave out every error's text, not only SQLAlchemy's parameters.
    from adapter import services

    store = app.extensions["ld_adapter"].store
    monkeypatch.setattr(services, "get_referral", lambda *_: _failing_insert(store))
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/referrals/r1", headers=auth)
    assert response.status_code == 500
    assert "IntegrityError" in caplog.text
    assert NHS_NUMBER not in caplog.text


def test_a_500_from_the_database_logs_no_sql_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fhirjs_checked_bodies: list
) -> None:
    # With the value limit lifted, SQLite refuses the query ("Expression tree is too large").
    settings = Settings(
        home=tmp_path,
        max_search_values=10_000,
        max_search_total_values=10_000,
        load_directory=False,
    )
    app = create_app(settings)
    auth = {"Authorization": f"Bearer {mint_dev_token(settings, ['system/*.rs'])}"}
    values = ",".join([f"{NHS}|{NHS_NUMBER}", *(f"{NHS}|{n:010d}" for n in range(1500))])
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post(
            "/fhir/Patient/_search", data={"identifier": values}, headers=auth
        )
    app.extensions["ld_adapter"].store.dispose()
    assert response.status_code == 500
    reference = response.get_json()["issue"][0]["diagnostics"].split("reference ")[1][:32]
    assert reference in caplog.text and "OperationalError" in caplog.text
    assert NHS_NUMBER not in caplog.text and "0000000001" not in caplog.text


def test_an_unexpected_error_logs_where_not_what(
    client, auth, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from adapter import services

    def broken(*_args: object) -> None:
        raise KeyError(f"person {NHS_NUMBER}")

    monkeypatch.setattr(services, "get_referral", broken)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/referrals/r1", headers=auth)
    assert response.status_code == 500
    assert "KeyError" in caplog.text and "read_referral" in caplog.text
    assert NHS_NUMBER not in caplog.text
