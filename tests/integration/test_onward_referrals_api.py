"""Onward referrals through the native API, delivered by a worker to a real partner server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter import create_app
from adapter.conformance import has_errors, validate
from adapter.settings import Settings
from tests.integration.store_fixtures import database_url, postgres_url  # noqa: F401 - fixtures
from tests.support.partner_app import deliver, partner_app_settings
from tests.support.partner_server import PartnerServer

ROOT = Path(__file__).resolve().parents[2]
REFERRALS = ROOT / "fixtures" / "native" / "referrals"
GP = "example-medical-practice-gp"
SAFEGUARDING = "example-council-adult-safeguarding"
HOME_AREA_LD = "bsmhft-ld-home-area"
PROBATION = "example-probation-court-team"
PRACTITIONER = {"name": "Alex Morgan", "role": "L&D practitioner (RMN)"}


@pytest.fixture
def partner() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, partner: PartnerServer, database_url: str) -> Settings:  # noqa: F811
    """An app on SQLite and PostgreSQL whose partners all live at the test partner's address."""
    return partner_app_settings(tmp_path, partner.base, database_url)


def _referral(client: FlaskClient, auth: dict, name: str = "adult-custody-telford") -> dict:
    payload = json.loads((REFERRALS / f"{name}.json").read_text(encoding="utf-8"))
    response = client.post("/api/referrals", json=payload, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _onward(client: FlaskClient, auth: dict, referral_id: str, **body: object):  # type: ignore[no-untyped-def]
    body = {"pathway": "gp", "to": GP, "referred_by": PRACTITIONER, **body}
    return client.post(f"/api/referrals/{referral_id}/onward-referrals", json=body, headers=auth)


def _counts(client: FlaskClient, auth: dict) -> tuple[int, int, int]:
    """Messages in the outbox, Tasks and ServiceRequests stored."""
    messages = client.get("/api/messages", headers=auth).get_json()["total"]
    tasks = client.get("/fhir/Task?_count=1", headers=auth).get_json()["total"]
    requests = client.get("/fhir/ServiceRequest?_count=1", headers=auth).get_json()["total"]
    return messages, tasks, requests


def test_an_onward_referral_is_queued_then_delivered_as_a_valid_message(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer, fhirjs
) -> None:
    referral = _referral(client, auth)
    created = _onward(client, auth, referral["id"], reason="Low mood", urgency="urgent")
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["status"] == "active"
    assert record["delivery"]["status"] == "queued"
    assert partner.received == []  # no request calls a partner

    assert deliver(app) == 1
    arrived = partner.wait_for(1)[0]
    assert arrived.correlation_id and arrived.request_id
    message = arrived.bundle
    assert not has_errors(validate(message))
    assert fhirjs.validate(message) == []
    header = message["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "servicerequest-request"
    assert header["destination"][0]["endpoint"] == partner.base

    now = client.get(f"/api/onward-referrals/{record['id']}", headers=auth).get_json()
    assert now["delivery"]["status"] == "delivered"
    assert now["delivery"]["attempts"] == 1
    task = client.get(f"/fhir/{now['fhir']['task']}", headers=auth).get_json()
    assert task["businessStatus"]["coding"][0]["code"] == "delivered"
    service_request = client.get(f"/fhir/{now['fhir']['service_request']}", headers=auth)
    assert service_request.get_json()["performer"][0]["reference"] == f"HealthcareService/{GP}"
    moved = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert moved["status"] == "referred-on"


def test_a_gp_never_receives_custody_identifiers(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth)
    assert _onward(client, auth, referral["id"]).status_code == 201
    deliver(app)
    text = json.dumps(partner.wait_for(1)[0].bundle)
    native = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    for identifier in native["person"].get("local_identifiers", []):
        assert identifier["value"] not in text
    assert "QuestionnaireResponse" not in text


def test_the_shipped_probation_partner_is_told_only_with_criminal_justice_consent(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    declined = _referral(client, auth, "declines-criminal-justice-sharing-worcester")
    refused = _onward(client, auth, declined["id"], pathway="criminal-justice", to=PROBATION)
    assert refused.status_code == 422
    assert "share-criminal-justice" in refused.get_json()["issue"][0]["diagnostics"]

    limited = _referral(client, auth, "court-cannock-magistrates")
    created = _onward(client, auth, limited["id"], pathway="criminal-justice", to=PROBATION)
    assert created.status_code == 201, created.get_json()
    assert deliver(app) == 1
    message = partner.wait_for(1)[0].bundle
    assert not has_errors(validate(message))
    destination = message["entry"][0]["resource"]["destination"][0]
    assert destination["receiver"]["reference"] == "Organization/example-probation"


def test_missing_consent_is_422_naming_it_and_nothing_is_stored(
    app: Flask, client: FlaskClient, auth: dict
) -> None:
    referral = _referral(client, auth, "self-referral-birmingham-custody")  # screening only
    before = _counts(client, auth)
    refused = _onward(client, auth, referral["id"])
    assert refused.status_code == 422
    issue = refused.get_json()["issue"][0]
    assert "share-health" in issue["diagnostics"]
    assert _counts(client, auth) == before
    unchanged = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert unchanged["status"] == referral["status"]


def test_safeguarding_without_consent_needs_and_records_a_lawful_basis(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth, "self-referral-birmingham-custody")
    without = _onward(client, auth, referral["id"], pathway="adult-safeguarding", to=SAFEGUARDING)
    assert without.status_code == 422
    made = _onward(
        client,
        auth,
        referral["id"],
        pathway="adult-safeguarding",
        to=SAFEGUARDING,
        lawful_basis="safeguarding-adult",
    )
    assert made.status_code == 201, made.get_json()
    consent_ref = made.get_json()["fhir"]["consents"][-1]
    consent = client.get(f"/fhir/{consent_ref}", headers=auth).get_json()
    assert consent["policyRule"]["coding"][0]["code"] == "safeguarding-adult"
    events = client.get("/fhir/AuditEvent?_count=200", headers=auth).get_json()["entry"]
    purposes = [
        coding["code"]
        for entry in events
        for purpose in entry["resource"].get("purposeOfEvent", [])
        for coding in purpose["coding"]
    ]
    assert purposes == ["safeguarding-adult"]  # the disclosure without consent, and its basis
    deliver(app)
    sent = partner.wait_for(1)[0].bundle
    assert any(e["resource"]["resourceType"] == "Consent" for e in sent["entry"])


def test_a_lawful_basis_is_refused_for_a_health_partner(client: FlaskClient, auth: dict) -> None:
    referral = _referral(client, auth)
    refused = _onward(client, auth, referral["id"], lawful_basis="vital-interests")
    assert refused.status_code == 422
    assert refused.get_json()["issue"][0]["expression"] == ["lawful_basis"]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"to": "no-such-service"}, "to", 422),
        ({"pathway": "housing"}, "pathway", 422),
        ({"pathway": "not-a-pathway"}, "pathway", 400),
        ({"referred_by": None}, "referred_by", 400),
        ({"urgency": "whenever"}, "urgency", 400),
    ],
)
def test_bad_requests_name_the_field(
    client: FlaskClient, auth: dict, body: dict, field: str, status: int
) -> None:
    referral = _referral(client, auth)
    refused = _onward(client, auth, referral["id"], **body)
    assert refused.status_code == status
    assert [field] in [issue.get("expression") for issue in refused.get_json()["issue"]]


def test_unknown_referral_is_404(client: FlaskClient, auth: dict) -> None:
    assert _onward(client, auth, "no-such-referral").status_code == 404


def test_cancel_before_delivery_withdraws_the_message(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    cancelled = client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert (body["status"], body["delivery"]["status"]) == ("cancelled", "cancelled")
    assert deliver(app) == 0
    assert partner.received == []
    service_request = client.get(f"/fhir/{body['fhir']['service_request']}", headers=auth)
    assert service_request.get_json()["status"] == "revoked"
    again = client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    assert again.status_code == 409


def test_cancel_after_delivery_sends_a_cancellation_in_the_same_conversation(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer, fhirjs
) -> None:
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    deliver(app)
    cancelled = client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert [m["kind"] for m in cancelled.get_json()["messages"]] == [
        "onward-referral",
        "cancellation",
    ]
    deliver(app)
    first, second = partner.wait_for(2)
    assert second.correlation_id == first.correlation_id
    assert second.request_id != first.request_id
    header = second.bundle["entry"][0]["resource"]
    assert header["reason"]["coding"][0]["code"] == "delete"
    assert not has_errors(validate(second.bundle))
    assert fhirjs.validate(second.bundle) == []


def test_listing_a_referrals_onward_referrals(client: FlaskClient, auth: dict) -> None:
    referral = _referral(client, auth)
    _onward(client, auth, referral["id"])
    _onward(client, auth, referral["id"], pathway="crisis-team", to="bsmhft-home-treatment")
    listed = client.get(f"/api/referrals/{referral['id']}/onward-referrals", headers=auth)
    assert listed.status_code == 200
    assert [item["to"] for item in listed.get_json()["items"]] == [GP, "bsmhft-home-treatment"]


def test_scopes_are_checked(client: FlaskClient, auth: dict, token) -> None:  # type: ignore[no-untyped-def]
    referral = _referral(client, auth)
    reader = {"Authorization": f"Bearer {token('system/*.rs')}"}
    assert _onward(client, reader, referral["id"]).status_code == 403


def test_a_refused_message_is_dead_lettered_with_the_partners_outcome_and_replayable(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": "unknown service"}],
    }
    partner.fail(400, outcome=outcome)
    deliver(app)
    failed = client.get(f"/api/onward-referrals/{record['id']}", headers=auth).get_json()
    assert failed["delivery"]["status"] == "dead-letter"
    shown = failed["delivery"]["partner_outcome"]
    assert shown["issue"][0]["code"] == "invalid"
    assert "unknown service" not in json.dumps(shown)  # diagnostics only with the body
    message_id = failed["delivery"]["message_id"]
    replayed = client.post(f"/api/messages/{message_id}/replay", headers=auth)
    assert replayed.status_code == 200
    deliver(app)
    assert len(partner.wait_for(1)) == 1
    assert (
        client.get(f"/api/onward-referrals/{record['id']}", headers=auth).get_json()["delivery"][
            "status"
        ]
        == "delivered"
    )


def test_a_cancelled_onward_referrals_dead_letter_is_never_sent_again(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    partner.fail(400)
    deliver(app)
    cancelled = client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    assert [m["kind"] for m in cancelled.get_json()["messages"]] == ["onward-referral"]
    message_id = cancelled.get_json()["delivery"]["message_id"]
    refused = client.post(f"/api/messages/{message_id}/replay", headers=auth)
    assert refused.status_code == 409
    assert "cancelled" in refused.get_json()["issue"][0]["diagnostics"]
    deliver(app)
    assert partner.received == []


def test_cancel_after_an_attempt_without_an_answer_still_tells_the_partner(
    settings: Settings, auth: dict, partner: PartnerServer
) -> None:
    impatient = create_app(replace(settings, delivery_timeout=0.3))
    client = impatient.test_client()
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    partner.stall(1.0)  # the partner stores it, but answers after we stopped waiting
    deliver(impatient)
    waiting = client.get(f"/api/onward-referrals/{record['id']}", headers=auth).get_json()
    assert (waiting["delivery"]["status"], waiting["delivery"]["attempts"]) == ("retrying", 1)
    cancelled = client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    kinds = {m["kind"]: m["status"] for m in cancelled.get_json()["messages"]}
    assert kinds == {"onward-referral": "cancelled", "cancellation": "queued"}
    partner.wait_for(1)
    deliver(impatient)
    arrived = partner.wait_for(2)
    assert arrived[1].bundle["entry"][0]["resource"]["reason"]["coding"][0]["code"] == "delete"
    task = client.get(f"/fhir/{record['fhir']['task']}", headers=auth).get_json()
    assert task["status"] == "cancelled"
    impatient.extensions["ld_adapter"].store.dispose()


def test_the_task_of_a_delivered_then_cancelled_referral_says_cancelled(
    app: Flask, client: FlaskClient, auth: dict, partner: PartnerServer
) -> None:
    referral = _referral(client, auth)
    record = _onward(client, auth, referral["id"]).get_json()
    deliver(app)
    client.post(f"/api/onward-referrals/{record['id']}/cancel", headers=auth)
    deliver(app)
    partner.wait_for(2)
    task = client.get(f"/fhir/{record['fhir']['task']}", headers=auth).get_json()
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == (
        "cancelled",
        "cancelled",
    )


def test_consent_given_without_capacity_does_not_permit_sharing(
    client: FlaskClient, auth: dict
) -> None:
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    for consent in payload["consents"]:
        consent["capacity"] = "lacks-capacity"
    referral = client.post("/api/referrals", json=payload, headers=auth).get_json()
    refused = _onward(client, auth, referral["id"])
    assert refused.status_code == 422
    assert "lacked capacity" in refused.get_json()["issue"][0]["diagnostics"]


def test_a_person_linked_with_differing_details_is_passed_on_only_once_checked(
    client: FlaskClient, auth: dict
) -> None:
    _referral(client, auth)  # stores the person with this NHS number
    payload = json.loads((REFERRALS / "adult-custody-telford.json").read_text(encoding="utf-8"))
    payload["local_id"] = "WMP-TEL-2025-OTHER"
    payload["person"]["birth_date"] = "1970-01-01"
    linked = client.post("/api/referrals", json=payload, headers=auth).get_json()
    assert linked["warnings"]
    refused = _onward(client, auth, linked["id"])
    assert refused.status_code == 422
    issue = refused.get_json()["issue"][0]
    assert issue["expression"] == ["identity_confirmed"]
    assert "person.birth_date" in issue["diagnostics"]
    assert _onward(client, auth, linked["id"], identity_confirmed=True).status_code == 201
