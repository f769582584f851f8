"""The audit trail: every interaction leaves an IHE BALP AuditEvent, with references only."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from adapter import services
from adapter.api.audit import INTERACTIONS
from adapter.conformance import validate
from adapter.errors import Conflict
from adapter.native.referral_schema import load_referral
from adapter.services import audit as audit_service
from adapter.services.audit import Requestor, audited
from adapter.settings import Settings
from adapter.store.referrals import ReferralRepository
from adapter.store.tables import resource
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
NHS_NUMBER = "9990012342"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
# A native referral record shows data of these types, so reading one needs each of their scopes.
READER = (
    *(f"system/{t}.rs" for t in ("Patient", "ServiceRequest", "Encounter", "Consent")),
    "system/Organization.rs",
    "system/AuditEvent.rs",
)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Every test here on SQLite and, when configured, on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


def fixture(name: str) -> dict:
    return json.loads((NATIVE / name).read_text())


def audits(app: Flask) -> list[dict]:
    """Every stored AuditEvent, oldest first, straight from the database."""
    store = app.extensions["ld_adapter"].store
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content)
            .where(resource.c.resource_type == "AuditEvent")
            .order_by(resource.c.last_updated)
        ).scalars()
        return [orjson.loads(content) for content in rows]


def only_audit(app: Flask) -> dict:
    """The one AuditEvent stored so far."""
    events = audits(app)
    assert len(events) == 1, [e["subtype"][0]["code"] for e in events]
    return events[0]


def summary(event: dict) -> tuple[str, str, str]:
    return event["subtype"][0]["code"], event["action"], event["outcome"]


def references(event: dict, role: str | None = None) -> set[str]:
    """The entity references, optionally only those with an object-role code."""
    return {
        e["what"]["reference"].split("/_history/")[0]
        for e in event.get("entity", [])
        if "reference" in e["what"] and (role is None or e["role"]["code"] == role)
    }


def client_of(event: dict) -> dict:
    return next(a for a in event["agent"] if a["requestor"])


@pytest.fixture
def referral(app: Flask, client: FlaskClient, auth: dict) -> dict:
    """A received referral; the audit trail emptied afterwards so tests see only their own."""
    response = client.post(
        "/api/referrals", json=fixture("referrals/adult-custody-telford.json"), headers=auth
    )
    assert response.status_code == 201
    store = app.extensions["ld_adapter"].store
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM resource_version WHERE resource_type='AuditEvent'"))
        connection.execute(resource.delete().where(resource.c.resource_type == "AuditEvent"))
    return dict(response.get_json())


def test_a_native_create_is_audited_with_every_resource_written(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    body = fixture("referrals/adult-custody-telford.json")
    created = client.post("/api/referrals", json=body, headers=auth).get_json()
    event = only_audit(app)
    assert summary(event) == ("create", "C", "0")
    assert event["type"]["code"] == "rest"
    fhir = created["fhir"]
    assert references(event, role="1") == {fhir["patient"]}
    written = {fhir["service_request"], fhir["encounter"], *fhir["consents"]}
    assert written <= references(event, role="4")
    assert client_of(event)["who"]["identifier"]["value"] == "ld-adapter-dev"
    assert client_of(event)["network"]["address"] == "127.0.0.1"


def test_a_write_that_fails_validation_leaves_only_a_failure(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    body = fixture("referrals/adult-custody-telford.json")
    body["site"] = "nowhere"
    assert client.post("/api/referrals", json=body, headers=auth).status_code == 400
    event = only_audit(app)
    assert summary(event) == ("create", "C", "4")
    assert "entity" not in event


def test_a_rolled_back_write_leaves_no_success_audit(
    app: Flask, client: FlaskClient, auth: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise RuntimeError("the disk filled up after the resources were written")

    monkeypatch.setattr(ReferralRepository, "add", fail)
    body = fixture("referrals/adult-custody-telford.json")
    assert client.post("/api/referrals", json=body, headers=auth).status_code == 500
    event = only_audit(app)
    assert summary(event) == ("create", "C", "8")
    assert "entity" not in event  # the resources it wrote were rolled back with it


def test_a_native_update_and_read_are_audited(
    app: Flask, client: FlaskClient, auth: dict, referral: dict
) -> None:
    body = {**referral["referral"], "urgency": "routine"}
    assert (
        client.put(f"/api/referrals/{referral['id']}", json=body, headers=auth).status_code == 200
    )
    assert client.get(f"/api/referrals/{referral['id']}", headers=auth).status_code == 200
    update, read = audits(app)
    assert summary(update) == ("update", "U", "0")
    assert referral["fhir"]["service_request"] in references(update)
    assert summary(read) == ("read", "R", "0")
    assert references(read, role="1") == {referral["fhir"]["patient"]}
    record = {"system": "http://testserver/api/referrals", "value": referral["id"]}
    assert {"identifier": record} in [e["what"] for e in read["entity"]]


def test_a_fhir_read_names_the_resource_and_its_patient(
    app: Flask, client: FlaskClient, auth: dict, referral: dict
) -> None:
    reference = referral["fhir"]["service_request"]
    assert client.get(f"/fhir/{reference}", headers=auth).status_code == 200
    event = only_audit(app)
    assert summary(event) == ("read", "R", "0")
    assert references(event, role="4") == {reference}
    assert references(event, role="1") == {referral["fhir"]["patient"]}


def test_a_search_by_nhs_number_stores_no_nhs_number(
    app: Flask, client: FlaskClient, token, referral: dict
) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token(*READER)}"}
    found = client.get(f"/fhir/Patient?identifier={NHS}|{NHS_NUMBER}", headers=headers)
    assert found.get_json()["total"] == 1
    by_patient = client.get(
        f"/fhir/ServiceRequest?patient:identifier={NHS}|{NHS_NUMBER}", headers=headers
    )
    assert by_patient.get_json()["total"] == 1
    native = client.get(f"/api/referrals?nhs_number={NHS_NUMBER}", headers=headers)
    assert native.get_json()["total"] == 1
    person = fixture("referrals/adult-custody-telford.json")["person"]
    by_name = f"family={person['family_name']}&birthdate={person['birth_date']}&x=leak-me"
    form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/fhir/Patient/_search", data=by_name, headers=form).status_code == 200
    events = audits(app)
    assert [summary(e) for e in events] == [("search-type", "E", "0")] * 4
    assert all(referral["fhir"]["patient"] in references(e, role="1") for e in events)
    for text in (NHS_NUMBER, person["family_name"], person["birth_date"], "leak-me", "="):
        assert text not in json.dumps(events)


def test_validate_is_audited_as_an_operation(app: Flask, client: FlaskClient, auth: dict) -> None:
    patient = {"resourceType": "Patient", "identifier": [{"system": NHS, "value": NHS_NUMBER}]}
    headers = {**auth, "Content-Type": "application/fhir+json"}
    assert client.post("/fhir/Patient/$validate", json=patient, headers=headers).status_code == 200
    event = only_audit(app)
    assert summary(event) == ("operation", "E", "0")
    assert NHS_NUMBER not in json.dumps(event)


def test_refusals_are_audited_as_failures(
    app: Flask, client: FlaskClient, token, referral: dict
) -> None:  # type: ignore[no-untyped-def]
    patient = referral["fhir"]["patient"]
    wrong_scope = {"Authorization": f"Bearer {token('system/Flag.rs')}"}
    assert client.get(f"/fhir/{patient}", headers=wrong_scope).status_code == 403
    assert client.get("/fhir/Patient/no-such-patient", headers=wrong_scope).status_code == 403
    assert client.get("/fhir/Flag/no-such-flag", headers=wrong_scope).status_code == 404
    assert client.get(f"/fhir/{patient}").status_code == 401
    forbidden, _, missing, anonymous = audits(app)
    assert summary(forbidden) == ("read", "R", "4")
    assert [e["outcomeDesc"] for e in (forbidden, missing, anonymous)] == [
        "403 Forbidden",
        "404 Not Found",
        "401 Unauthorized",
    ]
    assert references(forbidden) == {patient}
    assert client_of(forbidden)["who"]["identifier"]["value"] == "ld-adapter-dev"
    assert summary(missing) == ("read", "R", "4")
    assert references(missing) == {"Flag/no-such-flag"}
    assert summary(anonymous) == ("read", "R", "4")
    assert "identifier" not in client_of(anonymous)["who"]


def test_a_screening_is_audited_with_its_patient(
    app: Flask, client: FlaskClient, auth: dict, referral: dict
) -> None:
    body = fixture("assessments/adult-custody-telford.json")
    created = client.post(f"/api/referrals/{referral['id']}/assessments", json=body, headers=auth)
    assert created.status_code == 201
    event = audits(app)[0]
    assert summary(event) == ("create", "C", "0")
    assert created.get_json()["fhir"]["questionnaire_response"] in references(event)
    assert references(event, role="1") == {referral["fhir"]["patient"]}
    assessment_id = created.get_json()["id"]
    assert client.get(f"/api/assessments/{assessment_id}", headers=auth).status_code == 200
    read = audits(app)[-1]
    assert summary(read) == ("read", "R", "0")
    assert references(read, role="1") == {referral["fhir"]["patient"]}


def test_the_trail_is_searchable_and_reading_it_is_audited(
    app: Flask, client: FlaskClient, token, referral: dict
) -> None:  # type: ignore[no-untyped-def]
    patient = referral["fhir"]["patient"]
    headers = {"Authorization": f"Bearer {token(*READER)}"}
    assert client.get(f"/fhir/{patient}", headers=headers).status_code == 200
    assert client.get(f"/fhir/{referral['fhir']['service_request']}", headers=headers)
    searches = {
        f"patient={patient}": 2,
        f"patient:identifier={NHS}|{NHS_NUMBER}": 2,
        f"entity={patient}": 2,
        "agent:identifier=ld-adapter-dev": 2,
        "subtype=http://hl7.org/fhir/restful-interaction|read": 2,
        "type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest&subtype=create": 0,
        "date=ge2000-01-01": 2,
    }
    for query, total in searches.items():
        # Each search is itself audited, before the next one: those are search-type, not read.
        bundle = client.get(f"/fhir/AuditEvent?{query}&subtype=read", headers=headers).get_json()
        assert bundle["total"] == total, query
    reads_of_the_trail = client.get("/fhir/AuditEvent?subtype=search-type", headers=headers)
    assert reads_of_the_trail.get_json()["total"] == len(searches)
    last = audits(app)[-1]
    assert summary(last) == ("search-type", "E", "0")
    assert {r.split("/")[0] for r in references(last)} == {"AuditEvent"}


def test_the_trail_needs_its_own_scope_and_is_never_writable(
    client: FlaskClient, token, referral: dict
) -> None:  # type: ignore[no-untyped-def]
    clinical = {"Authorization": f"Bearer {token('system/Patient.rs')}"}
    assert client.get("/fhir/AuditEvent", headers=clinical).status_code == 403
    everything = {"Authorization": f"Bearer {token('system/*.cruds')}"}
    event = {"resourceType": "AuditEvent", "id": "forged"}
    assert client.post("/fhir/AuditEvent", json=event, headers=everything).status_code == 405
    assert client.put("/fhir/AuditEvent/forged", json=event, headers=everything).status_code == 405
    assert client.get("/fhir/AuditEvent/forged", headers=everything).status_code == 404


def test_our_validator_and_fhirjs_accept_the_events(
    app: Flask, client: FlaskClient, auth: dict, referral: dict, fhirjs
) -> None:  # type: ignore[no-untyped-def]
    client.get(f"/fhir/{referral['fhir']['patient']}", headers=auth)
    client.get("/fhir/Patient/missing", headers=auth)
    client.get(f"/api/referrals/{referral['id']}")
    client.get(f"/fhir/Patient?identifier={NHS}|{NHS_NUMBER}", headers=auth)
    events = audits(app)
    assert len(events) == 4
    for event in events:
        assert [str(i) for i in validate(event) if i.severity in ("error", "fatal")] == []
        assert fhirjs.validate(event) == []


def test_auditing_can_be_switched_off(tmp_path: Path, database_url: str, token) -> None:  # type: ignore[no-untyped-def]
    from adapter import create_app

    settings = Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)
    quiet = create_app(Settings(**{**settings.__dict__, "audit": False}))
    headers = {"Authorization": f"Bearer {token()}"}
    assert quiet.test_client().get("/fhir/Location", headers=headers).status_code == 200
    assert audits(quiet) == []
    quiet.extensions["ld_adapter"].store.dispose()


def test_a_read_that_cannot_be_audited_shows_nothing(
    app: Flask, client: FlaskClient, auth: dict, referral: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(audit_service, "record", fail)
    response = client.get(f"/fhir/{referral['fhir']['patient']}", headers=auth)
    assert response.status_code == 500
    assert NHS_NUMBER not in response.get_data(as_text=True)


def test_a_caller_without_flask_audits_through_the_same_service(app: Flask) -> None:
    context = app.extensions["ld_adapter"]
    referral = load_referral(fixture("referrals/adult-custody-telford.json"))
    worker = Requestor("exchange-worker")
    base = context.settings.fhir_base_url
    with audited(context.store, "create", worker, base):
        stored = services.receive_referral(context.store, referral, context.directory)
    event = only_audit(app)
    assert summary(event) == ("create", "C", "0")
    assert client_of(event)["who"]["identifier"]["value"] == "exchange-worker"
    assert references(event, role="1") == {stored.resource_ids["patient"]}
    with pytest.raises(Conflict), audited(context.store, "create", worker, base):
        services.receive_referral(context.store, referral, context.directory)
    assert summary(audits(app)[-1]) == ("create", "C", "4")


def test_every_endpoint_that_needs_a_token_is_audited(app: Flask) -> None:
    needs_token = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if not getattr(view, "is_public", False) and not endpoint.endswith("static")
    }
    assert needs_token - set(INTERACTIONS) == set()


def test_each_write_in_one_audited_block_gets_its_own_event(app: Flask) -> None:
    context = app.extensions["ld_adapter"]
    first = load_referral(fixture("referrals/adult-custody-telford.json"))
    second = load_referral(fixture("referrals/court-cannock-magistrates.json"))
    worker = Requestor("exchange-worker")
    with audited(context.store, "create", worker, context.settings.fhir_base_url):
        one = services.receive_referral(context.store, first, context.directory)
        two = services.receive_referral(context.store, second, context.directory)
    events = audits(app)
    assert [summary(e) for e in events] == [("create", "C", "0")] * 2
    assert one.resource_ids["service_request"] in references(events[0])
    assert one.resource_ids["service_request"] not in references(events[1])
    assert two.resource_ids["service_request"] in references(events[1])
    assert not any(r.startswith("AuditEvent/") for e in events for r in references(e))
