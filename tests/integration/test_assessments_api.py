"""Screenings through the native API: recorded, read back as FHIR, amended, moving the pathway."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from adapter.settings import Settings
from tests.integration.store_fixtures import *  # noqa: F403  (database_url: SQLite and PostgreSQL)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # type: ignore[no-untyped-def]
    """Run every test here on SQLite and, when configured, on PostgreSQL."""
    return Settings(home=tmp_path, base_url="http://testserver", database_url=database_url)


ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "fixtures" / "native"
QUESTIONNAIRES = ROOT / "fixtures" / "questionnaires"
SCREENING_URL = "https://ld-adapter.github.io/fhir/Questionnaire/ld-screening"


def fixture(name: str) -> dict:
    return json.loads((NATIVE / name).read_text())


@pytest.fixture
def referral(client, auth) -> dict:  # type: ignore[no-untyped-def]
    """A received referral for an adult in Telford custody."""
    body = fixture("referrals/adult-custody-telford.json")
    body["status"] = "received"
    response = client.post("/api/referrals", json=body, headers=auth)
    assert response.status_code == 201
    return response.get_json()


def screen(client, auth, referral, body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/referrals/{referral['id']}/assessments", json=body, headers=auth)


def fhir(client, auth, reference: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/fhir/{reference}", headers=auth)
    assert response.status_code == 200, reference
    return response.get_json()


def pathway_status(service_request: dict) -> str:
    for extension in service_request.get("extension", []):
        if extension["url"].endswith("/ld-pathway-status"):
            return extension["valueCoding"]["code"]
    raise AssertionError("no pathway status extension")


def test_completed_screening_is_stored_as_fhir_and_assesses_the_referral(client, auth, referral):
    response = screen(client, auth, referral, fixture("assessments/adult-custody-telford.json"))

    assert response.status_code == 201
    record = response.get_json()
    assert response.headers["Location"] == f"/api/assessments/{record['id']}"
    assert record["referral_id"] == referral["id"]
    response_resource = fhir(client, auth, record["fhir"]["questionnaire_response"])
    assert response_resource["questionnaire"] == f"{SCREENING_URL}|1.0.0"
    assert response_resource["subject"]["reference"] == referral["fhir"]["patient"]
    assert response_resource["basedOn"][0]["reference"] == referral["fhir"]["service_request"]
    assert response_resource["text"]["div"].startswith("<div")
    encounter = fhir(client, auth, record["fhir"]["encounter"])
    assert encounter["status"] == "finished"
    assert [fhir(client, auth, f)["status"] for f in record["fhir"]["flags"]] == ["active"]

    referral_now = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    assert referral_now["status"] == "assessed"
    assert referral_now["version"] == 2
    service_request = fhir(client, auth, referral["fhir"]["service_request"])
    assert pathway_status(service_request) == "assessed"


def test_partial_save_then_completion(client, auth, referral):
    completed = fixture("assessments/adult-custody-telford.json")
    partial = copy.deepcopy(completed)
    partial["status"] = "in-progress"
    del partial["ended_at"]
    partial["answers"] = {
        k: v for k, v in completed["answers"].items() if k in ("setting", "capacity")
    }
    partial.pop("outcome", None)
    partial["risks"] = []

    record = screen(client, auth, referral, partial).get_json()
    assert record["status"] == "in-progress"
    assert client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()["status"] == (
        "screening"
    )

    finished = client.put(
        f"/api/assessments/{record['id']}", json=completed, headers={**auth, "If-Match": 'W/"1"'}
    )
    assert finished.status_code == 200
    assert finished.get_json()["status"] == "completed"
    assert finished.get_json()["version"] == 2
    response_resource = fhir(client, auth, record["fhir"]["questionnaire_response"])
    assert response_resource["status"] == "completed"
    assert response_resource["meta"]["versionId"] == "2"
    assert client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()["status"] == (
        "assessed"
    )


def test_amending_a_completed_screen_keeps_the_old_version(client, auth, referral):
    body = fixture("assessments/adult-custody-telford.json")
    record = screen(client, auth, referral, body).get_json()
    body["risks"] = []
    amended = client.put(f"/api/assessments/{record['id']}", json=body, headers=auth).get_json()

    assert amended["status"] == "amended"
    history = client.get(f"/api/assessments/{record['id']}/history", headers=auth).get_json()
    assert [item["version"] for item in history["items"]] == [2, 1]
    assert history["items"][1]["assessment"]["risks"] == ["self-harm-risk"]
    dropped_flag = fhir(client, auth, record["fhir"]["flags"][0])
    assert dropped_flag["status"] == "inactive"
    versions = fhir(client, auth, f"{record['fhir']['questionnaire_response']}/_history")
    assert versions["total"] == 2

    stale = client.put(
        f"/api/assessments/{record['id']}", json=body, headers={**auth, "If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412


def test_a_person_who_declines_is_recorded_without_clinical_answers(client, auth, referral):
    response = screen(
        client, auth, referral, fixture("assessments/declines-screening-cannock-court.json")
    )
    assert response.status_code == 201
    response_resource = fhir(client, auth, response.get_json()["fhir"]["questionnaire_response"])
    answered = json.dumps(response_resource)
    assert "audit-c" not in answered


def test_answers_that_enable_when_disables_are_rejected_with_native_paths(client, auth, referral):
    body = fixture("assessments/declines-screening-cannock-court.json")
    body["answers"]["audit-c-frequency"] = ["monthly-or-less"]
    response = screen(client, auth, referral, body)

    assert response.status_code == 400
    expressions = [e for i in response.get_json()["issue"] for e in i.get("expression", [])]
    assert any(e.startswith("answers.") for e in expressions)
    listed = client.get(f"/api/referrals/{referral['id']}/assessments", headers=auth).get_json()
    assert listed["total"] == 0


def test_unknown_link_id_and_unknown_referral(client, auth, referral):
    body = fixture("assessments/adult-custody-telford.json")
    body["answers"]["favourite-colour"] = ["blue"]
    bad = screen(client, auth, referral, body)
    assert bad.status_code == 400
    assert "answers.favourite-colour" in json.dumps(bad.get_json())

    missing = client.post(
        "/api/referrals/no-such-referral/assessments",
        json=fixture("assessments/adult-custody-telford.json"),
        headers=auth,
    )
    assert missing.status_code == 404


def test_unknown_site_is_400(client, auth, referral):
    body = fixture("assessments/adult-custody-telford.json")
    body["site"] = "custody-nowhere"
    response = screen(client, auth, referral, body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == ["site"]


def test_screenings_need_questionnaire_response_scopes(client, token, referral):
    headers = {"Authorization": f"Bearer {token('system/ServiceRequest.cruds')}"}
    response = screen(client, headers, referral, fixture("assessments/adult-custody-telford.json"))
    assert response.status_code == 403


def test_responses_are_searchable_and_the_questionnaire_is_served(client, auth, referral):
    screen(client, auth, referral, fixture("assessments/adult-custody-telford.json"))
    patient_id = referral["fhir"]["patient"].split("/")[1]
    found = client.get(f"/fhir/QuestionnaireResponse?patient={patient_id}", headers=auth)
    assert found.get_json()["total"] == 1
    questionnaires = client.get(f"/fhir/Questionnaire?url={SCREENING_URL}", headers=auth).get_json()
    assert questionnaires["total"] == 1
    assert questionnaires["entry"][0]["resource"]["version"] == "1.0.0"


def test_an_inbound_response_breaking_enable_when_fails_validate(client, auth):
    bad = json.loads((QUESTIONNAIRES / "invalid-declined-but-screened.json").read_text())
    response = client.post(
        "/fhir/QuestionnaireResponse/$validate",
        data=json.dumps(bad),
        headers={**auth, "Content-Type": "application/fhir+json"},
    )
    issues = response.get_json()["issue"]
    assert any(
        coding["code"] == "LD-QR-DISABLED-ANSWERED"
        for issue in issues
        for coding in issue.get("details", {}).get("coding", [])
    )


@pytest.mark.parametrize(
    "name",
    [
        "adult-custody-telford",
        "youth-shrewsbury-appropriate-adult",
        "lacks-capacity-worcester-s136",
    ],
)
def test_fhir_read_back_maps_to_the_screen_that_was_posted(client, auth, referral, name):
    from adapter.conformance.full import questionnaires
    from adapter.mapping.assessment import AssessmentResources, assessment_from_fhir
    from adapter.native.assessment_schema import load_assessment

    posted = fixture(f"assessments/{name}.json")
    record = screen(client, auth, referral, posted).get_json()
    resources = AssessmentResources(
        questionnaire_response=fhir(client, auth, record["fhir"]["questionnaire_response"]),
        encounter=fhir(client, auth, record["fhir"]["encounter"]),
        flags=[fhir(client, auth, flag) for flag in record["fhir"]["flags"]],
    )
    expected = load_assessment(posted, questionnaires())
    assert assessment_from_fhir(resources, questionnaires()) == expected
    assert load_assessment(record["assessment"], questionnaires()) == expected


def test_the_contact_is_provided_by_the_trust_running_the_site(client, auth, referral):
    record = screen(client, auth, referral, fixture("assessments/adult-custody-telford.json"))
    encounter = fhir(client, auth, record.get_json()["fhir"]["encounter"])
    assert encounter["serviceProvider"] == {"reference": "Organization/mpft"}


def test_what_the_screen_found_joins_the_referrals_reasons(client, auth, referral):
    before = set(referral["referral"]["concerns"])
    screen(client, auth, referral, fixture("assessments/lacks-capacity-worcester-s136.json"))

    record = client.get(f"/api/referrals/{referral['id']}", headers=auth).get_json()
    concerns = record["referral"]["concerns"]
    assert before <= set(concerns)
    assert {"acquired-brain-injury", "safeguarding-adult"} <= set(concerns)
    service_request = fhir(client, auth, referral["fhir"]["service_request"])
    reason_codes = {c["code"] for r in service_request["reasonCode"] for c in r["coding"]}
    assert "acquired-brain-injury" in reason_codes
