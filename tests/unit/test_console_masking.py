"""The console masks the person's details in a message until an auditor reveals them."""

from __future__ import annotations

import json

from adapter.console.masking import mask

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    "name": [{"family": "Bloggs", "given": ["Jo"]}],
    "birthDate": "1990-01-01",
    "gender": "female",
    "address": [{"line": ["1 High Street"], "postalCode": "HR1 1AA"}],
    "telecom": [{"system": "phone", "value": "07700900000"}],
    "text": {"status": "generated", "div": "<div>Jo Bloggs</div>"},
}


def test_identifying_details_are_masked_and_the_shape_and_codes_stay() -> None:
    masked = mask({"resourceType": "Bundle", "entry": [{"resource": PATIENT}]})
    shown = json.dumps(masked)
    for detail in ("9434765919", "Bloggs", "Jo", "1990-01-01", "High Street", "HR1", "07700900000"):
        assert detail not in shown
    patient = masked["entry"][0]["resource"]
    assert patient["identifier"][0]["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    assert patient["gender"] == "female" and patient["id"] == "p1"
    assert patient["name"] == [{"family": "•••", "given": ["•••"]}]


def test_a_reference_s_display_and_free_text_are_masked() -> None:
    request = {
        "resourceType": "ServiceRequest",
        "subject": {"reference": "Patient/p1", "display": "Jo Bloggs"},
        "note": [{"text": "Jo says she lives with her sister"}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "306206005"}]},
    }
    masked = mask(request)
    assert masked["subject"] == {"reference": "Patient/p1", "display": "•••"}
    assert masked["note"] == [{"text": "•••"}]
    assert masked["code"] == request["code"]


def test_masking_leaves_the_original_alone() -> None:
    before = json.dumps(PATIENT)
    mask(PATIENT)
    assert json.dumps(PATIENT) == before
