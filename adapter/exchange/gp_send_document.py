"""GP Connect Send Document: the ITK3 message (FHIR STU3) that files a PDF in the GP record.

Shape copied from nhsconnect/gpconnect-messaging (consultation_report.xml and requirements
GPCM-SD-039..064, 103..124): an ITK-Message-Bundle whose MessageHeader (event ITK007C, handling
extension asking for both acknowledgements, no destination: MESH routes by the person) points at
an ITK-Document-Bundle of Composition, Patient, Practitioner, Organization and the PDF in a
Binary. Codes and profiles are data (mappings/gp-send-document.json). The person's details come
already cut to the GP's disclosure rule; this module only re-expresses them in STU3.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.errors import Issue, Unprocessable
from adapter.exchange.ascii_fold import ascii_fold, folds_fully
from adapter.exchange.partners import mesh_workflow, ods_code
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime

PATIENT_ELEMENTS = ("identifier", "name", "telecom", "gender", "birthDate", "address")
VERIFICATION = "UKCore-NHSNumberVerificationStatusEngland"


@functools.cache
def spec() -> dict[str, Any]:
    """mappings/gp-send-document.json, read once."""
    path = codes.mappings_dir() / "gp-send-document.json"
    return json.loads(path.read_text(encoding="utf-8"))


def value(path: str) -> Any:
    """One entry of mappings/gp-send-document.json by `section.key`."""
    section, key = path.split(".", 1)
    return spec()[section][key]


@dataclass(frozen=True)
class Identity:
    """What MESH routes by: the person's NHS number, birth date and surname (GPCM-SD-038)."""

    nhs_number: str
    birth_date: str  # YYYY-MM-DD
    surname: str
    display_name: str

    @property
    def mex_to(self) -> str:
        """`GPPROVIDER_<NHS number>_<DDMMYYYY>_<Surname>`, the surname as recorded, in ASCII."""
        year, month, day = self.birth_date.split("-")
        surname = ascii_fold(self.surname)
        parts = (value("mesh.to-prefix"), self.nhs_number, f"{day}{month}{year}", surname)
        return "_".join(parts)


def identity_of(patient: dict) -> Identity:
    """The routing identity of a Patient; 422 naming what is missing, when MESH cannot route."""
    nhs_system = codes.url("identifier.nhs-number")
    identifiers = patient.get("identifier", ())
    numbers = {i.get("value") for i in identifiers if i.get("system") == nhs_system}
    valid = sorted(n for n in numbers if isinstance(n, str) and is_valid_nhs_number(n))
    # Two NHS numbers on one person (stored before they were refused) cannot both be theirs:
    # a GP must never be sent someone else's, so neither goes.
    number = valid[0] if len(valid) == 1 else None
    name = _official_name(patient)
    surname = name.get("family") if isinstance(name.get("family"), str) else None
    birth_date = patient.get("birthDate")
    missing = [
        field
        for field, present in (
            ("person.nhs_number", number),
            ("person.birth_date", isinstance(birth_date, str) and len(birth_date) == 10),
            ("person.family_name", surname and "_" not in surname and folds_fully(surname)),
        )
        if not present
    ]
    if missing:
        raise Unprocessable(
            Issue(
                "The GP practice is reached through MESH by the person's NHS number, date of "
                f"birth and surname; this person has no valid {', '.join(missing)} (one NHS "
                "number, not two; a surname "
                "may not contain '_', and must be in Latin letters, accents allowed, as the "
                "NHS's records hold it). Record it on the referral first.",
                code="business-rule",
                expression=tuple(missing),
            )
        )
    assert number is not None and surname is not None and isinstance(birth_date, str)
    given = " ".join(g for g in name.get("given", ()) if isinstance(g, str))
    return Identity(number, birth_date, surname, f"{given} {surname}".strip())


def _official_name(patient: dict) -> dict:
    names = [n for n in patient.get("name", ()) if isinstance(n, dict)]
    return next((n for n in names if n.get("use") == "official"), names[0] if names else {})


@dataclass(frozen=True)
class Report:
    """What goes into one Send Document message besides the PDF."""

    message_id: str  # the outbox row id: MessageHeader.id, which the acks answer
    sender_reference: str  # the onward referral id (SenderReference: our contact's identifier)
    at: datetime
    patient: dict  # the R4 Patient, already cut to the GP's disclosure rule
    practitioner_name: str
    organization: dict  # our R4 Organization from the service directory (the sender)
    mailbox: str  # our MESH mailbox id (MessageHeader.source.endpoint)
    # The Organization of the L&D service that saw the person, with the service's phone first:
    # the document's custodian and the "seen at" of the summaries (else `organization`).
    seen_by: dict | None = None

    @property
    def custodian(self) -> dict:
        """The Organization the document names as seeing the person and keeping the record."""
        return self.seen_by or self.organization


def is_send_document(headers: dict) -> bool:
    """True for an outbox message that is a GP Connect Send Document (by its MESH workflow)."""
    return headers.get("Mex-WorkflowID") == value("mesh.workflow")


def is_send_document_endpoint(endpoint: dict) -> bool:
    """A MESH Endpoint whose workflow is GP Connect Send Document (a practice, routed by person)."""
    return mesh_workflow(endpoint) == value("mesh.workflow")


def mesh_headers(report: Report, identity: Identity) -> dict[str, str]:
    """The MESH envelope: routed to the registered practice by the person (GPCM-SD-063/064)."""
    subject = _summary("mesh.subject", report, identity, _ascii_name(identity))
    return {
        "Mex-To": identity.mex_to,
        "Mex-WorkflowID": value("mesh.workflow"),
        "Mex-Subject": ascii_fold(subject),
        "Mex-LocalID": report.message_id,
    }


def send_document_message(report: Report, identity: Identity, pdf: bytes) -> dict:
    """The ITK3 Send Document message Bundle (STU3 JSON) carrying `pdf`."""
    ids = {name: str(uuid.uuid4()) for name in ("sender", "document", "composition", "binary")}
    ids.update(practitioner=str(uuid.uuid4()), organization=str(uuid.uuid4()))
    document = _document_bundle(report, identity, pdf, ids)
    header_org = {
        "resourceType": "Organization",
        "id": ids["sender"],
        "meta": {"profile": [value("message.header-organization-profile")]},
        "identifier": _ods_identifiers(report.organization),
    }
    header = _header(report, ids)
    return {
        "resourceType": "Bundle",
        "id": report.message_id,
        "meta": {"profile": [value("message.bundle-profile")]},
        "identifier": {"system": value("message.identifier-system"), "value": report.message_id},
        "type": "message",
        "entry": [_entry(r) for r in (header, header_org, document)],
    }


def _header(report: Report, ids: dict[str, str]) -> dict:
    handling = [
        {"url": "BusAckRequested", "valueBoolean": True},
        {"url": "InfAckRequested", "valueBoolean": True},
        {
            "url": "RecipientType",
            "valueCoding": {
                "system": value("message.recipient-type-system"),
                "code": value("message.recipient-type"),
                "display": value("message.recipient-type-display"),
            },
        },
        {
            "url": "MessageDefinition",
            "valueReference": {"reference": value("message.message-definition")},
        },
        {"url": "SenderReference", "valueString": report.sender_reference},
        {"url": "LocalExtension", "valueString": value("message.local-extension")},
    ]
    return {
        "resourceType": "MessageHeader",
        "id": report.message_id,
        "meta": {"profile": [value("message.header-profile")]},
        "extension": [{"url": value("message.handling-extension"), "extension": handling}],
        "event": {
            "system": value("message.event-system"),
            "code": value("message.event"),
            "display": value("message.event-display"),
        },
        "sender": {"reference": f"urn:uuid:{ids['sender']}"},
        "timestamp": fhir_datetime(report.at),
        "source": {"endpoint": report.mailbox},
        "focus": [{"reference": f"urn:uuid:{ids['document']}"}],
    }


def _document_bundle(report: Report, identity: Identity, pdf: bytes, ids: dict) -> dict:
    patient = _patient(report.patient)
    organization = _organization(report.custodian, ids["organization"])
    binary = {
        "resourceType": "Binary",
        "id": ids["binary"],
        "meta": {"profile": [value("document.binary-profile")]},
        "contentType": "application/pdf",
        "content": base64.b64encode(pdf).decode("ascii"),
    }
    composition = {
        "resourceType": "Composition",
        "id": ids["composition"],
        "meta": {"profile": [value("document.composition-profile")]},
        "text": {"status": "generated", "div": _div(_summary("document.text", report, identity))},
        "status": "final",
        "type": {
            "coding": [
                {
                    "system": value("document.type-system"),
                    "code": value("document.type"),
                    "display": value("document.type-display"),
                }
            ]
        },
        "subject": _urn(patient),
        "date": fhir_datetime(report.at),
        "author": [{"reference": f"urn:uuid:{ids['practitioner']}"}],
        "title": value("document.title"),
        "confidentiality": value("document.confidentiality"),
        "custodian": _urn(organization),
        "section": [{"title": value("document.title"), "entry": [_urn(binary)]}],
    }
    practitioner = _practitioner(ids["practitioner"], report)
    resources = (composition, binary, practitioner, organization, patient)
    return {
        "resourceType": "Bundle",
        "id": ids["document"],
        "meta": {"profile": [value("document.bundle-profile")]},
        "identifier": {"system": value("message.identifier-system"), "value": ids["document"]},
        "type": "document",
        "entry": [_entry(r) for r in resources],
    }


def _patient(patient: dict) -> dict:
    """The CareConnect Patient: the disclosed elements STU3 shares with R4, our id kept."""
    stu3 = {"resourceType": "Patient", "id": patient["id"]}
    stu3["meta"] = {"profile": [value("document.patient-profile")]}
    for element in PATIENT_ELEMENTS:
        if element in patient:
            stu3[element] = patient[element]
    if "identifier" in stu3:
        stu3["identifier"] = [_stu3_identifier(i) for i in stu3["identifier"]]
    return stu3


def _stu3_identifier(identifier: dict) -> dict:
    """System and value; the NHS number with CareConnect's verification status (min 1 there)."""
    kept = {k: v for k, v in identifier.items() if k in ("system", "value")}
    if identifier.get("system") != codes.url("identifier.nhs-number"):
        return kept
    # CareConnect's code system has UK Core England's codes and displays, under its own URL.
    status = _verification_status(identifier) or codes.url("value.nhs-number-verification-status")
    coding = {**codes.coding(VERIFICATION, status), "system": value("document.verification-system")}
    concept = {"coding": [coding]}
    extension = {"url": value("document.verification-extension"), "valueCodeableConcept": concept}
    return {"extension": [extension], **kept}


def _verification_status(identifier: dict) -> str | None:
    """The UK Core NHS number verification status the stored identifier holds, if any."""
    for extension in identifier.get("extension", ()):
        if extension.get("url") == codes.url("extension.nhs-number-verification-status"):
            for coding in (extension.get("valueCodeableConcept") or {}).get("coding", ()):
                if coding.get("code") in codes.codes(VERIFICATION):
                    return str(coding["code"])
    return None


def _organization(organization: dict, organization_id: str) -> dict:
    phones = [t for t in organization.get("telecom", ()) if t.get("system") == "phone"]
    stu3 = {
        "resourceType": "Organization",
        "id": organization_id,  # fullUrls are urn:uuid; the directory's ids are not UUIDs
        "meta": {"profile": [value("document.organization-profile")]},
        "identifier": _ods_identifiers(organization),
        "name": organization.get("name"),
    }
    if phones:
        stu3["telecom"] = [{k: p[k] for k in ("system", "value", "use") if k in p} for p in phones]
    return stu3


def _practitioner(practitioner_id: str, report: Report) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id,
        "meta": {"profile": [value("document.practitioner-profile")]},
        # We hold the practitioner's name only, no SDS user id (GPCM-SD-032 cannot be met).
        "name": [{"use": "official", "text": report.practitioner_name}],
    }


def _ods_identifiers(organization: dict) -> list[dict]:
    ods = ods_code(organization)
    return [{"system": codes.url("identifier.ods-organization-code"), "value": ods}] if ods else []


def _ascii_name(identity: Identity) -> str:
    """The name in ASCII, leaving out given names with no ASCII form (Greek...), never '???'."""
    return " ".join(ascii_fold(part) for part in identity.display_name.split() if folds_fully(part))


def _summary(template: str, report: Report, identity: Identity, name: str | None = None) -> str:
    return str(value(template)).format(
        name=identity.display_name if name is None else name,
        nhs_number=identity.nhs_number,
        practice=report.custodian.get("name", ""),
        ods=ods_code(report.custodian) or "",
    )


def _div(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escaped}</p></div>'


def _urn(resource: dict) -> dict:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
