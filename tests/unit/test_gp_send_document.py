"""The GP Connect Send Document message: addressing, every element's source, STU3 validity."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.errors import Unprocessable
from adapter.exchange.gp_send_document import (
    Report,
    identity_of,
    mesh_headers,
    send_document_message,
)
from adapter.exchange.stu3_check import ensure_stu3, stu3_problems

ROOT = Path(__file__).resolve().parents[2]
ORGANIZATION = json.loads(
    (ROOT / "mappings/service-directory/Organization-mpft.json").read_text(encoding="utf-8")
)
NHS = "https://fhir.nhs.uk/Id/nhs-number"
PATIENT = {
    "resourceType": "Patient",
    "id": "0b7f2c1e-5d2a-4c59-9a47-0d3d3f1f6a11",
    "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
    "identifier": [
        {
            "extension": [{"url": "https://example.org/verification", "valueString": "02"}],
            "system": NHS,
            "value": "9990012342",
        }
    ],
    "name": [{"use": "official", "family": "Hartley", "given": ["Daniel", "James"]}],
    "gender": "male",
    "birthDate": "1988-06-02",
}
PDF = b"%PDF-1.7 a summary"
AT = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def _report(**changes: object) -> Report:
    values: dict = {
        "message_id": "5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00",
        "sender_reference": "onward-1",
        "at": AT,
        "patient": PATIENT,
        "practitioner_name": "Alex Morgan (RMN)",
        "organization": ORGANIZATION,
        "mailbox": "X26ABC1",
        **changes,
    }
    return Report(**values)


def _message() -> dict:
    return send_document_message(_report(), identity_of(PATIENT), PDF)


def _identifier_with_status(code: str) -> dict:
    status = {
        "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                    "code": code,
                }
            ]
        },
    }
    return {"extension": [status], "system": NHS, "value": "9990012342"}


def _by_type(bundle: dict) -> dict[str, dict]:
    return {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}


def test_mesh_routes_by_nhs_number_birth_date_and_surname_as_recorded() -> None:
    headers = mesh_headers(_report(), identity_of(PATIENT))
    assert headers["Mex-To"] == "GPPROVIDER_9990012342_02061988_Hartley"
    assert headers["Mex-WorkflowID"] == "GPFED_CONSULT_REPORT"
    assert headers["Mex-Subject"] == (
        "Consultation report for Daniel James Hartley, NHS Number 9990012342, seen at "
        f"{ORGANIZATION['name']}, ODS Code RRE"
    )


def test_the_mesh_envelope_is_ascii_for_names_with_accents_and_polish_letters() -> None:
    """requests sends headers as Latin-1 and MESH routes in ASCII: Ł must not stop the send."""
    name = [{"use": "official", "family": "Wróblewski", "given": ["Łukasz", "Siân"]}]
    headers = mesh_headers(_report(), identity_of({**PATIENT, "name": name}))
    assert headers["Mex-To"] == "GPPROVIDER_9990012342_02061988_Wroblewski"
    assert headers["Mex-Subject"].startswith("Consultation report for Lukasz Sian Wroblewski,")
    assert all(header.isascii() for header in headers.values())


@pytest.mark.parametrize(
    ("given", "family", "to", "subject"),
    [
        ("Łukasz", "Wróblewski", "Wroblewski", "Lukasz Wroblewski"),
        ("Zoë", "O'Brien-Smith", "O'Brien-Smith", "Zoe O'Brien-Smith"),
        ("Søren", "Ødegård", "Odegard", "Soren Odegard"),
        ("Jürgen", "Weiß", "Weiss", "Jurgen Weiss"),
    ],
)
def test_the_mesh_envelope_is_ascii_with_diacritics_folded(
    given: str, family: str, to: str, subject: str
) -> None:
    patient = {**PATIENT, "name": [{"use": "official", "family": family, "given": [given]}]}
    headers = mesh_headers(_report(), identity_of(patient))
    assert headers["Mex-To"] == f"GPPROVIDER_9990012342_02061988_{to}"
    assert headers["Mex-Subject"].startswith(f"Consultation report for {subject}, NHS")
    assert all(v.isascii() for v in headers.values())
    # The document itself keeps the name as written.
    document = _by_type(send_document_message(_report(patient=patient), identity_of(patient), PDF))
    assert family in json.dumps(document, ensure_ascii=False)


def test_the_mesh_subject_leaves_out_a_given_name_with_no_ascii_form() -> None:
    """A Greek given name cannot be folded: the practice sees the surname, not a run of '?'."""
    patient = {**PATIENT, "name": [{"use": "official", "family": "Smith", "given": ["Γιώργος"]}]}
    headers = mesh_headers(_report(patient=patient), identity_of(patient))
    assert headers["Mex-Subject"].startswith("Consultation report for Smith, NHS Number 9990012342")
    assert "?" not in headers["Mex-Subject"]
    document = _by_type(send_document_message(_report(patient=patient), identity_of(patient), PDF))
    assert "Γιώργος" in json.dumps(document, ensure_ascii=False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"identifier": []}, "person.nhs_number"),
        ({"identifier": [{"system": NHS, "value": "9990012343"}]}, "person.nhs_number"),
        (  # two people's numbers, merged before that was refused: neither may go to a GP
            {"identifier": [{"system": NHS, "value": v} for v in ("9990012342", "9990012350")]},
            "person.nhs_number",
        ),
        ({"birthDate": None}, "person.birth_date"),
        ({"name": [{"use": "official", "given": ["Daniel"]}]}, "person.family_name"),
        ({"name": [{"use": "official", "family": "Hart_ley"}]}, "person.family_name"),
        # MESH routes by the surname as the NHS's records hold it: in Latin letters
        ({"name": [{"use": "official", "family": "Παπαδόπουλος"}]}, "person.family_name"),
    ],
)
def test_a_person_mesh_cannot_route_is_refused_naming_what_is_missing(
    change: dict, field: str
) -> None:
    patient = {k: v for k, v in {**PATIENT, **change}.items() if v is not None}
    with pytest.raises(Unprocessable) as refused:
        identity_of(patient)
    assert refused.value.issues[0].expression == (field,)


CARE_CONNECT_VERIFICATION = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1"


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        (PATIENT["identifier"], "02"),  # no UK Core status stored: present but not traced
        ([_identifier_with_status("01")], "01"),  # the stored UK Core status, re-expressed
    ],
)
def test_the_nhs_number_carries_care_connects_verification_status(stored: list, code: str) -> None:
    """CareConnect-Patient-1: identifier:nhsNumber.extension:nhsNumberVerificationStatus 1..1."""
    patient = {**PATIENT, "identifier": stored}
    message = send_document_message(_report(patient=patient), identity_of(patient), PDF)
    document = _by_type(message)["Bundle"]
    (identifier,) = _by_type(document)["Patient"]["identifier"]
    (extension,) = identifier["extension"]
    assert extension["url"] == CARE_CONNECT_VERIFICATION
    coding = extension["valueCodeableConcept"]["coding"][0]
    assert coding["system"].endswith("/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1")
    assert coding["code"] == code
    assert (identifier["system"], identifier["value"]) == (NHS, "9990012342")
    assert stu3_problems(message) == []


def test_the_message_is_valid_stu3_resource_by_resource() -> None:
    assert stu3_problems(_message()) == []


def test_the_itk3_header_asks_for_both_acks_and_names_no_destination() -> None:
    message = _message()
    assert message["meta"]["profile"] == [
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1"
    ]
    header = message["entry"][0]["resource"]
    assert header["id"] == "5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00"  # what the acks answer
    handling = {e["url"]: e for e in header["extension"][0]["extension"]}
    assert handling["BusAckRequested"]["valueBoolean"] is True
    assert handling["InfAckRequested"]["valueBoolean"] is True
    assert handling["RecipientType"]["valueCoding"]["code"] == "FA"
    assert handling["MessageDefinition"]["valueReference"]["reference"].endswith(
        "/ITK-GPConnectSendDocument-MessageDefinition-1"
    )
    assert handling["SenderReference"]["valueString"] == "onward-1"
    assert handling["LocalExtension"]["valueString"] == "SendDocument-ConsultationReport"
    assert header["event"]["code"] == "ITK007C"
    assert header["source"] == {"endpoint": "X26ABC1"}
    assert header["timestamp"] == "2026-12-01T10:30:00+00:00"
    assert "destination" not in header
    sender = message["entry"][1]
    assert header["sender"]["reference"] == sender["fullUrl"]
    assert sender["resource"]["identifier"][0]["value"] == "RRE"
    assert header["focus"][0]["reference"] == message["entry"][2]["fullUrl"]


def test_the_document_carries_the_pdf_the_person_our_organisation_and_the_practitioner() -> None:
    document = _message()["entry"][2]["resource"]
    assert document["type"] == "document"
    urls = {e["resource"]["resourceType"]: e["fullUrl"] for e in document["entry"]}
    found = _by_type(document)
    composition = found["Composition"]
    assert composition["status"] == "final"
    assert composition["type"]["coding"][0]["code"] == "371531000"
    assert composition["title"] == "Consultation report"
    assert composition["subject"]["reference"] == urls["Patient"]
    assert composition["author"][0]["reference"] == urls["Practitioner"]
    assert composition["custodian"]["reference"] == urls["Organization"]
    assert composition["section"][0]["entry"][0]["reference"] == urls["Binary"]
    assert "Daniel James Hartley, NHS Number 9990012342" in composition["text"]["div"]
    assert base64.b64decode(found["Binary"]["content"]) == PDF
    assert found["Binary"]["contentType"] == "application/pdf"
    assert found["Patient"]["id"] == PATIENT["id"]  # our id: the audit names the person by it
    # CareConnect-Patient-1: the NHS number carries CareConnect's own verification status (1..1).
    assert found["Patient"]["identifier"] == [
        {
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/"
                    "Extension-CareConnect-NHSNumberVerificationStatus-1",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/STU3/CodeSystem/"
                                "CareConnect-NHSNumberVerificationStatus-1",
                                "code": "02",
                                "display": "Number present but not traced",
                            }
                        ]
                    },
                }
            ],
            "system": NHS,
            "value": "9990012342",
        }
    ]
    assert found["Patient"]["birthDate"] == "1988-06-02"
    assert found["Organization"]["name"] == ORGANIZATION["name"]
    assert found["Practitioner"]["name"] == [{"use": "official", "text": "Alex Morgan (RMN)"}]


def test_a_verified_nhs_number_keeps_its_status_in_careconnect_terms() -> None:
    verified = {
        "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                    "code": "01",
                }
            ]
        },
    }
    identifier = {"extension": [verified], "system": NHS, "value": "9990012342"}
    patient = {**PATIENT, "identifier": [identifier]}
    message = send_document_message(_report(patient=patient), identity_of(patient), PDF)
    found = _by_type(message["entry"][2]["resource"])["Patient"]["identifier"][0]
    coding = found["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert (coding["code"], coding["display"]) == ("01", "Number present and verified")


def test_a_message_the_stu3_models_refuse_is_refused_without_its_values() -> None:
    message = _message()
    _by_type(message["entry"][2]["resource"])["Patient"]["birthDate"] = "2 June 1988"
    problems = stu3_problems(message)
    assert problems == [
        "Bundle.entry[2].resource.entry[4].resource.birthDate: "
        "Value error, Date value string does not match spec regex."
    ]
    with pytest.raises(Unprocessable):
        ensure_stu3(message)
