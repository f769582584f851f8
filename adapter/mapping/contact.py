"""Assessment ⇄ the Encounter of the L&D contact; the practitioner contained in each resource."""

from __future__ import annotations

from datetime import datetime

from adapter.domain.assessment import Assessment, Practitioner, ProfessionalIdentifier
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    as_list,
    fhir_datetime,
    find_extension,
    invalid,
    parse_datetime,
    profile,
    reference,
    reference_id,
    string_or_none,
)
from adapter.mapping.encounter import setting_codings, setting_from
from adapter.mapping.narrative import narrative

AUTHOR_ID = "author"  # the contained PractitionerRole every assessment resource names
_PRACTITIONER_ID = "author-practitioner"
KIND = "ld-assessment-kind"
ROLE = "ld-practitioner-role"
REGISTER = "ld-professional-register"
MHA = "ld-mha-place-of-safety"


def practitioner_contained(practitioner: Practitioner) -> list[dict]:
    """A contained PractitionerRole (id `author`) and the Practitioner it names."""
    person: dict = {"resourceType": "Practitioner", "id": _PRACTITIONER_ID}
    if practitioner.identifier is not None:
        system = codes.prop(REGISTER, practitioner.identifier.register, "identifier-system")
        person["identifier"] = [{"system": system, "value": practitioner.identifier.value}]
    person["name"] = [{"text": practitioner.name}]
    role: dict = {
        "resourceType": "PractitionerRole",
        "id": AUTHOR_ID,
        "practitioner": {"reference": f"#{_PRACTITIONER_ID}"},
    }
    concept: dict = {}
    if practitioner.role_code:
        concept["coding"] = [codes.coding(ROLE, practitioner.role_code)]
    if practitioner.role_text:
        concept["text"] = practitioner.role_text
    if concept:
        role["code"] = [concept]
    return [role, person]


def practitioner_from(resource: dict, expression: str) -> Practitioner:
    """The practitioner held in a resource's contained PractitionerRole and Practitioner."""
    contained = {r.get("id"): r for r in as_list(resource.get("contained")) if isinstance(r, dict)}
    role, person = contained.get(AUTHOR_ID), contained.get(_PRACTITIONER_ID)
    name = as_dict(next(iter(as_list((person or {}).get("name"))), {})).get("text")
    if role is None or person is None or not string_or_none(name):
        raise invalid(
            "Expected a contained PractitionerRole 'author' naming a contained Practitioner.",
            f"{expression}.contained",
        )
    concept = as_dict(next(iter(as_list(role.get("code"))), {}))
    return Practitioner(
        name=str(name),
        role_code=codes.code_from(ROLE, concept.get("coding")),
        role_text=string_or_none(concept.get("text")),
        identifier=_identifier_from(person),
    )


def _identifier_from(person: dict) -> ProfessionalIdentifier | None:
    for identifier in as_list(person.get("identifier")):
        identifier = as_dict(identifier)
        register = codes.code_with_property(REGISTER, "identifier-system", identifier.get("system"))
        value = string_or_none(identifier.get("value"))
        if register and value:
            return ProfessionalIdentifier(register, value)
    return None


def assessment_statuses() -> tuple[str, ...]:
    """The QuestionnaireResponse statuses an assessment may have (from fhir-urls.json)."""
    prefix = "value.assessment-encounter-status."
    return tuple(k[len(prefix) :] for k in codes.terminology().urls if k.startswith(prefix))


def legal_status_coding(code: str) -> dict | None:
    """The UK Core legal status classification coding for a code the adapter accepts, or None."""
    for concept in codes.code_list(MHA).concepts.values():
        coding = concept.properties.get("legal-status")
        if isinstance(coding, dict) and coding.get("code") == code:
            return dict(coding)
    return None


def legal_status_codes() -> tuple[str, ...]:
    """The UK Core legal status codes an assessment may carry (MHA place-of-safety sections)."""
    return tuple(
        c.properties["legal-status"]["code"] for c in codes.code_list(MHA).concepts.values()
    )


def encounter_from_assessment(
    assessment: Assessment,
    encounter_id: str,
    patient: str,
    service_request: str,
    provider: str | None = None,
) -> dict:
    """The contact in which the person was screened; provider is the L&D trust running it."""
    encounter: dict = {"resourceType": "Encounter", "id": encounter_id}
    encounter["meta"] = profile("Encounter")
    encounter["text"] = _narrative(assessment)
    encounter["contained"] = practitioner_contained(assessment.practitioner)
    if assessment.legal_status is not None:
        encounter["extension"] = [_legal_status_extension(assessment.legal_status)]
    encounter["status"] = codes.url(f"value.assessment-encounter-status.{assessment.status}")
    encounter["class"] = dict(
        codes.prop("ld-referral-setting", assessment.setting, "encounter-class")
    )
    encounter["type"] = [
        {"coding": [codes.coding(KIND, assessment.kind)]},
        {"coding": setting_codings(assessment.setting)},
    ]
    encounter["subject"] = reference("Patient", patient)
    encounter["basedOn"] = [reference("ServiceRequest", service_request)]
    encounter["participant"] = [
        {
            "type": [{"coding": [_participant_type()]}],
            "individual": {"reference": f"#{AUTHOR_ID}"},
        }
    ]
    period = {"start": fhir_datetime(assessment.started_at)}
    if assessment.ended_at is not None:
        period["end"] = fhir_datetime(assessment.ended_at)
    encounter["period"] = period
    encounter["location"] = [{"location": reference("Location", assessment.site)}]
    if provider is not None:
        encounter["serviceProvider"] = {"reference": provider}
    return encounter


def _participant_type() -> dict:
    return {
        "system": codes.url("system.participation-type"),
        "code": codes.url("value.practitioner-participant"),
        "display": codes.url("value.practitioner-participant-display"),
    }


def _legal_status_extension(code: str) -> dict:
    coding = legal_status_coding(code)
    if coding is None:
        raise ValueError("legal_status must be one of legal_status_codes()")
    # UK Core requires both parts (Extension.extension min 2); the context is data in
    # ld-mha-place-of-safety (`admission`: the section the person was brought in under).
    context = codes.code_list(MHA).concepts[_section(code)].properties["legal-status-context"]
    return {
        "url": codes.url("extension.legal-status"),
        "extension": [
            {
                "url": codes.url("value.legal-status-context"),
                "valueCodeableConcept": {"coding": [dict(context)]},
            },
            {
                "url": codes.url("value.legal-status-classification"),
                "valueCodeableConcept": {"coding": [coding]},
            },
        ],
    }


def _section(code: str) -> str:
    """The ld-mha-place-of-safety concept whose UK Core classification code is code."""
    return next(
        c.code
        for c in codes.code_list(MHA).concepts.values()
        if c.properties["legal-status"]["code"] == code
    )


def _narrative(assessment: Assessment) -> dict:
    practitioner = assessment.practitioner
    role = practitioner.role_text or (
        codes.display(ROLE, practitioner.role_code) if practitioner.role_code else ""
    )
    rows = [
        ("Contact", codes.display(KIND, assessment.kind)),
        ("Setting", codes.display("ld-referral-setting", assessment.setting)),
        ("Record status", assessment.status),
        ("Started", fhir_datetime(assessment.started_at)),
    ]
    if assessment.ended_at is not None:
        rows.append(("Ended", fhir_datetime(assessment.ended_at)))
    rows.append(("Practitioner", f"{practitioner.name} ({role})" if role else practitioner.name))
    if assessment.legal_status is not None:
        coding = legal_status_coding(assessment.legal_status) or {}
        rows.append(("Legal status", coding.get("display", assessment.legal_status)))
    if assessment.risks:
        flagged = "; ".join(codes.display("ld-risk-flag", r) for r in assessment.risks)
        rows.append(("Risks flagged", flagged))
    return narrative(codes.display(KIND, assessment.kind), rows)


def contact_from_encounter(encounter: dict) -> dict:
    """Kind, setting, site, times and legal status held in the Encounter (as Assessment fields)."""
    kind = None
    for concept in as_list(encounter.get("type")):
        kind = kind or codes.code_from(KIND, as_dict(concept).get("coding"))
    if kind is None:
        raise invalid(f"Expected a type coding from {codes.system(KIND)}.", "Encounter.type")
    period = as_dict(encounter.get("period"))
    site = next(
        (
            found
            for loc in as_list(encounter.get("location"))
            if (found := reference_id(as_dict(loc).get("location"), "Location"))
        ),
        None,
    )
    if site is None:
        raise invalid("Expected a Location reference.", "Encounter.location")
    ended: datetime | None = None
    if period.get("end") is not None:
        ended = parse_datetime(period.get("end"), "Encounter.period.end")
    return {
        "kind": kind,
        "setting": setting_from(encounter),
        "site": site,
        "started_at": parse_datetime(period.get("start"), "Encounter.period.start"),
        "ended_at": ended,
        "legal_status": _legal_status_from(encounter),
    }


def _legal_status_from(encounter: dict) -> str | None:
    ext = find_extension(encounter, "legal-status")
    if ext is None:
        return None
    name = codes.url("value.legal-status-classification")
    accepted = legal_status_codes()
    for part in as_list(ext.get("extension")):
        concept = as_dict(as_dict(part).get("valueCodeableConcept"))
        if as_dict(part).get("url") != name:
            continue
        for coding in as_list(concept.get("coding")):
            code = as_dict(coding).get("code")
            # Match on system and code only: a partner may send another display.
            if code in accepted and as_dict(coding).get("system") == _system(code):
                return code
    raise invalid(
        "Expected a legalStatusClassification for Mental Health Act section 135 or 136.",
        "Encounter.extension",
    )


def _system(code: str) -> str | None:
    return (legal_status_coding(code) or {}).get("system")
