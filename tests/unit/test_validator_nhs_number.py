"""An NHS number failing Modulus 11 is an error wherever it appears, not only in ld-patient."""

from __future__ import annotations

from adapter.conformance import validate

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _errors(resource: dict) -> list[tuple[str, str]]:
    return [(i.message_id, i.expression[0]) for i in validate(resource) if i.severity == "error"]


def test_a_uk_core_patient_with_a_bad_nhs_number_is_an_error() -> None:
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
        "identifier": [{"system": NHS, "value": "9990012343"}],
    }
    assert _errors(patient) == [("LD-NHS-NUMBER-INVALID", "Patient.identifier[0].value")]


def test_a_bad_nhs_number_in_a_reference_identifier_is_an_error() -> None:
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"identifier": {"system": NHS, "value": "1234567890"}},
    }
    assert _errors(request) == [
        ("LD-NHS-NUMBER-INVALID", "ServiceRequest.subject.identifier.value")
    ]


def test_each_bundle_entry_is_reported_once() -> None:
    bad = {"resourceType": "Patient", "identifier": [{"system": NHS, "value": "9990012343"}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": bad}]}
    assert _errors(bundle) == [
        ("LD-NHS-NUMBER-INVALID", "Bundle.entry[0].resource.identifier[0].value")
    ]


def test_a_valid_nhs_number_and_other_systems_pass() -> None:
    patient = {
        "resourceType": "Patient",
        "identifier": [
            {"system": NHS, "value": "9990012342"},
            {"system": "https://example.org/local", "value": "1234567890"},
        ],
    }
    assert _errors(patient) == []
