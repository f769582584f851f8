"""FHIR read, vread, history, ETags, content negotiation, scopes and the CapabilityStatement."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.store_fixtures import seed


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The shared app fixture, on SQLite and on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


@pytest.fixture
def seeded(app: Flask) -> Flask:
    seed(app.extensions["ld_adapter"].store)
    store = app.extensions["ld_adapter"].store
    with store.unit_of_work() as uow:
        current = uow.resources.read("Patient", "p1")
        uow.resources.update({**current, "gender": "female"})
    return app


def test_read_returns_the_current_version_with_etag(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    response = client.get("/fhir/Patient/p1", headers=auth)
    assert response.status_code == 200
    assert response.content_type == "application/fhir+json; charset=utf-8"
    assert response.headers["ETag"] == 'W/"2"'
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.get_json()["gender"] == "female"


def test_if_none_match_with_the_current_etag_is_304(
    client: FlaskClient, seeded: Flask, auth: dict
) -> None:
    assert (
        client.get("/fhir/Patient/p1", headers={**auth, "If-None-Match": 'W/"2"'}).status_code
        == 304
    )
    assert (
        client.get("/fhir/Patient/p1", headers={**auth, "If-None-Match": 'W/"1"'}).status_code
        == 200
    )


def test_vread_and_history(client: FlaskClient, seeded: Flask, auth: dict) -> None:
    first = client.get("/fhir/Patient/p1/_history/1", headers=auth)
    assert first.status_code == 200 and "gender" not in first.get_json()
    assert first.headers["ETag"] == 'W/"1"'
    assert client.get("/fhir/Patient/p1/_history/3", headers=auth).status_code == 404
    assert client.get("/fhir/Patient/p1/_history/x", headers=auth).status_code == 404
    assert client.get("/fhir/Patient/p1/_history/²", headers=auth).status_code == 404
    bundle = client.get("/fhir/Patient/p1/_history", headers=auth).get_json()
    assert bundle["type"] == "history" and bundle["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in bundle["entry"]] == ["PUT", "POST"]
    assert bundle["entry"][0]["fullUrl"] == "http://testserver/fhir/Patient/p1"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/fhir/Patient/nobody", 404, "not-found"),
        ("/fhir/Patient/nobody/_history", 404, "not-found"),
        ("/fhir/Observation/1", 404, "not-supported"),
        ("/fhir/Observation", 404, "not-supported"),
        ("/fhir/Patient/bad_id!", 400, "invalid"),
        ("/fhir/Patient/" + "a" * 65, 400, "invalid"),
    ],
)
def test_errors_are_operation_outcomes(
    client: FlaskClient, seeded: Flask, auth: dict, path: str, status: int, code: str
) -> None:
    response = client.get(path, headers=auth)
    assert response.status_code == status
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == code


def test_unsupported_type_is_named(client: FlaskClient, auth: dict) -> None:
    body = client.get("/fhir/Observation/1", headers=auth).get_json()
    assert "Observation" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("query", "accept", "status"),
    [
        ("", None, 200),
        ("", "*/*", 200),
        ("", "application/json", 200),
        ("", "application/fhir+json; fhirVersion=4.0", 200),
        ("?_format=json", None, 200),
        ("?_format=application/fhir%2Bjson", "application/xml", 200),
        ("", "application/fhir+xml", 406),
        ("", "text/html", 406),
        ("?_format=xml", None, 406),
        ("?_format=application/fhir%2Bxml", None, 406),
    ],
)
def test_content_negotiation(
    client: FlaskClient, seeded: Flask, auth: dict, query: str, accept: str | None, status: int
) -> None:
    headers = {**auth, **({"Accept": accept} if accept else {})}
    response = client.get(f"/fhir/Patient/p1{query}", headers=headers)
    assert response.status_code == status
    assert response.content_type == "application/fhir+json; charset=utf-8"
    if status == 406:
        assert response.get_json()["issue"][0]["expression"] in (["Accept"], ["_format"])


def test_scopes_are_enforced(client: FlaskClient, seeded: Flask, token) -> None:  # type: ignore[no-untyped-def]
    search_only = {"Authorization": f"Bearer {token('system/Patient.s')}"}
    read_only = {"Authorization": f"Bearer {token('system/Patient.r')}"}
    assert client.get("/fhir/Patient/p1", headers=search_only).status_code == 403
    assert client.get("/fhir/Patient/p1/_history", headers=search_only).status_code == 403
    assert client.get("/fhir/Patient/p1", headers=read_only).status_code == 200
    assert client.get("/fhir/Patient", headers=read_only).status_code == 403
    assert client.get("/fhir/Patient", headers=search_only).status_code == 200
    assert client.get("/fhir/Patient/p1").status_code == 401


def test_capability_statement_lists_what_works(client: FlaskClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.get_json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert (statement["status"], statement["kind"], statement["fhirVersion"]) == (
        "active",
        "instance",
        "4.0.1",
    )
    rest = statement["rest"][0]
    assert rest["mode"] == "server"
    assert rest["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    resources = {r["type"]: r for r in rest["resource"]}
    assert set(resources) == {
        "ServiceRequest",
        "Patient",
        "Encounter",
        "Consent",
        "Location",
        "Organization",
        "HealthcareService",
        "QuestionnaireResponse",
        "Flag",
        "StructureDefinition",
        "ValueSet",
        "CodeSystem",
        "ConceptMap",
        "MessageDefinition",
        "Questionnaire",
        "AuditEvent",
        "Endpoint",
        "Task",
        "DocumentReference",
    }
    assert (
        "https://ld-adapter.github.io/fhir/StructureDefinition/ld-referral"
        in resources["ServiceRequest"]["supportedProfile"]
    )
    assert rest["operation"][0]["name"] == "validate"
    service_request = resources["ServiceRequest"]
    assert {i["code"] for i in service_request["interaction"]} == {
        "read",
        "vread",
        "history-instance",
        "search-type",
    }
    params = {p["name"]: p for p in service_request["searchParam"]}
    assert set(params) == {
        "_id",
        "_lastUpdated",
        "identifier",
        "patient",
        "subject",
        "encounter",
        "status",
        "authored",
    }
    assert params["authored"] == {
        "name": "authored",
        "definition": "http://hl7.org/fhir/SearchParameter/ServiceRequest-authored",
        "type": "date",
        "documentation": params["authored"]["documentation"],
    }
    assert "ServiceRequest:patient" in service_request["searchInclude"]
    assert (
        "https://ld-adapter.github.io/fhir/StructureDefinition/ld-justice-report"
        in resources["DocumentReference"]["supportedProfile"]
    )
    assert {p["name"] for p in resources["Patient"]["searchParam"]} == {
        "_id",
        "_lastUpdated",
        "identifier",
        "family",
        "birthdate",
    }
