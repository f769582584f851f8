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


def test_a_reference_by_identifier_masks_the_number_and_the_name() -> None:
    # A response message names the person by subject.identifier (adapter/exchange/response.py).
    response = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "Task",
                    "status": "rejected",
                    "for": {
                        "identifier": {
                            "system": "https://fhir.nhs.uk/Id/nhs-number",
                            "value": "9990037027",
                        },
                        "display": "Daniel Hartley",
                    },
                }
            }
        ],
    }
    masked = mask(response)
    shown = json.dumps(masked)
    assert "9990037027" not in shown and "Hartley" not in shown
    subject = masked["entry"][0]["resource"]["for"]
    assert subject["identifier"]["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    assert masked["entry"][0]["resource"]["status"] == "rejected"


def test_document_content_is_replaced_by_its_size_and_type() -> None:
    pdf = "JVBERi0xLjcKJcfsj6IK" * 10  # 200 base64 characters: 150 bytes
    binary = {"resourceType": "Binary", "contentType": "application/pdf", "content": pdf}
    report = {
        "content": [
            {"attachment": {"contentType": "application/pdf", "data": pdf, "title": "Jo Bloggs"}}
        ]
    }
    assert mask(binary)["content"] == "••• (150 bytes, application/pdf)"
    attachment = mask(report)["content"][0]["attachment"]
    assert attachment == {
        "contentType": "application/pdf",
        "data": "••• (150 bytes, application/pdf)",
        "title": "•••",
    }


def test_an_element_nobody_listed_is_masked_and_a_coding_display_stays() -> None:
    resource = {
        "resourceType": "Encounter",
        "extension": [{"url": "https://example.org/x", "valueString": "lives at 1 High St"}],
        "reasonCode": [{"coding": [{"code": "1", "display": "Self-harm"}], "text": "Jo's note"}],
        "someNewElement": "Jo Bloggs",
        "partOf": {"reference": "Encounter?identifier=https://x|9434765919"},
        "length": {"value": 2, "unit": "h"},
    }
    masked = mask(resource)
    assert masked["extension"] == [{"url": "https://example.org/x", "valueString": "•••"}]
    reason = [{"coding": [{"code": "1", "display": "Self-harm"}], "text": "•••"}]
    assert masked["reasonCode"] == reason
    assert masked["someNewElement"] == "•••"
    assert masked["partOf"] == {"reference": "•••"}
    assert masked["length"] == {"value": 2, "unit": "h"}


def test_a_body_that_is_plain_text_is_masked() -> None:
    assert mask("Jo Bloggs, 9434765919") == "•••"
