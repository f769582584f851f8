"""Referral ⇄ the UK Core ServiceRequest asking the L&D service to see the person."""

from __future__ import annotations

from adapter.domain import Referral, ReferralResourceIds
from adapter.mapping import codes
from adapter.mapping.common import coded_extension, fhir_datetime, profile, reference
from adapter.mapping.organization import REFERRER_CONTAINED_ID, practitioner_role

_SOURCE = "nhsdd-source-of-referral-mh"
_STATUS = "ld-pathway-status"
_CONCERN = "ld-vulnerability"
_CONCERN_MAP = "ld-vulnerability-to-snomed"


def service_request_from_referral(
    referral: Referral,
    ids: ReferralResourceIds,
    organization: dict | None,
    performer: str | None,
) -> dict:
    """The ServiceRequest for a referral; references the other resources made from it."""
    request: dict = {"resourceType": "ServiceRequest", "id": ids.service_request}
    request["meta"] = profile("ServiceRequest")
    if referral.referrer is not None:
        request["contained"] = [practitioner_role(referral.referrer, organization)]
    request["extension"] = [
        coded_extension("referral-source", _SOURCE, referral.source),
        coded_extension("pathway-status", _STATUS, referral.status),
    ]
    request["identifier"] = [
        {"system": codes.url("identifier.referral-local-id"), "value": referral.local_id}
    ]
    request["status"] = codes.prop(_STATUS, referral.status, "service-request-status")
    request["intent"] = "order"
    team = codes.url("value.service-team-type")
    request["category"] = [{"coding": [codes.coding("nhsdd-service-team-type-mh", team)]}]
    request["priority"] = referral.urgency
    code = codes.url("value.service-request-code")
    request["code"] = {"coding": [codes.coding("ld-service-request-code", code)]}
    request["subject"] = reference("Patient", ids.patient)
    request["encounter"] = reference("Encounter", ids.encounter)
    request["authoredOn"] = fhir_datetime(referral.received_at)
    requester = _requester(referral, ids.patient)
    if requester:
        request["requester"] = requester
    if performer:
        request["performer"] = [{"reference": performer}]
    request["locationReference"] = [reference("Location", referral.site)]
    if referral.concerns:
        request["reasonCode"] = [reason_code(concern) for concern in referral.concerns]
    if ids.consents:
        request["supportingInfo"] = [reference("Consent", cid) for cid in ids.consents]
    if referral.notes:
        request["note"] = [{"text": note} for note in referral.notes]
    return request


def _requester(referral: Referral, patient_id: str) -> dict | None:
    if referral.referrer is not None:
        return {"reference": f"#{REFERRER_CONTAINED_ID}"}
    if codes.prop(_SOURCE, referral.source, "requester-is-patient"):
        return reference("Patient", patient_id)
    return None


def reason_code(concern: str) -> dict:
    """A concern's project coding, plus its SNOMED CT coding where that is equivalent or wider."""
    coding = [codes.coding(_CONCERN, concern)]
    for target in codes.translate(_CONCERN_MAP, concern):
        if target.equivalence in codes.SAME_OR_WIDER:
            snomed = {"system": target.system, "code": target.code}
            if target.display:
                snomed["display"] = target.display
            coding.append(snomed)
    return {"coding": coding}


def concerns_from(reason_codes: object) -> tuple[str, ...]:
    """Concern codes from reasonCode: the project code, else an equivalent SNOMED CT code."""
    found: list[str] = []
    for concept in reason_codes if isinstance(reason_codes, list) else ():
        codings = concept.get("coding") if isinstance(concept, dict) else None
        code = codes.code_from(_CONCERN, codings)
        if code is None:
            code = _concern_from_snomed(codings)
        if code is not None and code not in found:
            found.append(code)
    return tuple(found)


def _concern_from_snomed(codings: object) -> str | None:
    for coding in codings if isinstance(codings, list) else ():
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            sources = codes.reverse_translate(
                _CONCERN_MAP, coding.get("system", ""), coding["code"]
            )
            if sources:
                return sources[0]
    return None
