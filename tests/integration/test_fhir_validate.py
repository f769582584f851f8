"""$validate over HTTP: every problem reported with its FHIRPath, for bare and Parameters bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def post(client, auth, path, body, **headers):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, headers={**auth, **FHIR_JSON, **headers})


def errors(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    return [
        (issue["code"], (issue.get("expression") or [""])[0])
        for issue in outcome["issue"]
        if issue["severity"] in ("error", "fatal")
    ]


def test_a_valid_patient_is_all_ok(client, auth):
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-01"}
    response = post(client, auth, "/fhir/Patient/$validate", patient)
    assert response.status_code == 200
    assert errors(response) == []
    assert response.get_json()["issue"][0]["severity"] == "information"


def test_every_problem_is_reported_with_its_path(client, auth):
    patient = {
        "resourceType": "Patient",
        "gender": "bogus",
        "birthDate": "1990-13-01",
        "active": "true",
    }
    found = errors(post(client, auth, "/fhir/$validate", patient))
    assert ("code-invalid", "Patient.gender") in found
    assert ("value", "Patient.birthDate") in found
    assert any(expr == "Patient.active" for _, expr in found)


def test_parameters_body_with_profile(client, auth):
    request_body = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "resource",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990012343"}
                    ],
                },
            },
            {
                "name": "profile",
                "valueUri": "https://ld-adapter.github.io/fhir/StructureDefinition/ld-patient",
            },
        ],
    }
    response = post(client, auth, "/fhir/Patient/$validate", request_body)
    assert response.status_code == 200
    outcome = response.get_json()
    assert any(
        "Patient.identifier[0]" in (i.get("expression") or [""])[0]
        for i in outcome["issue"]
        if i["severity"] == "error"
    )
    assert "9990012343" not in response.get_data(as_text=True)


def test_type_in_url_must_match(client, auth):
    response = post(client, auth, "/fhir/Encounter/$validate", {"resourceType": "Patient"})
    assert ("invalid", "Patient") in errors(response)


def test_parameters_without_a_resource_is_400(client, auth):
    response = post(
        client, auth, "/fhir/$validate", {"resourceType": "Parameters", "parameter": []}
    )
    assert response.status_code == 400


def test_malformed_json_is_400(client, auth):
    response = post(client, auth, "/fhir/$validate", b'{"resourceType": "Patient",')
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["code"] == "structure"


def test_needs_a_token(client):
    response = client.post("/fhir/$validate", data=b"{}", headers=FHIR_JSON)
    assert response.status_code == 401


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is beside the repo in CI")
def test_nhs_uk_core_patient_example_has_no_errors(client, auth):
    patient = json.loads(
        (REFERENCE / "ukcore" / "UKCore-Patient-RichardSmith-Example.json").read_text()
    )
    assert errors(post(client, auth, "/fhir/$validate", patient)) == []


def test_parameters_body_with_a_uk_core_profile(client, auth):
    patient = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"},
        ],
    }
    uk_core = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": patient},
            {"name": "profile", "valueUri": uk_core},
        ],
    }
    response = post(client, auth, "/fhir/Patient/$validate", body)
    assert response.status_code == 200
    assert errors(response) == [("structure", "Patient.identifier")]  # one NHS number at most
    assert errors(post(client, auth, "/fhir/Patient/$validate", patient)) == []
