"""A whole Referral ⇄ its FHIR resources (Patient, ServiceRequest, Encounter, Consents, Org)."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapter.domain import Referral, ReferralResourceIds, Referrer
from adapter.errors import InvalidInput, Issue
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    as_list,
    code_from_extension,
    invalid,
    parse_datetime,
    reference_id,
    string_or_none,
)
from adapter.mapping.consent import consent_from_decision, decision_from_consent
from adapter.mapping.encounter import encounter_from_referral, setting_from, youth_from
from adapter.mapping.organization import (
    REFERRER_CONTAINED_ID,
    referrer_from,
    referrer_organization,
)
from adapter.mapping.patient import patient_from_person, person_from_patient
from adapter.mapping.service_request import concerns_from, service_request_from_referral


@dataclass
class ReferralResources:
    """The FHIR resources made from one referral, as plain dicts."""

    patient: dict
    service_request: dict
    encounter: dict
    consents: list[dict] = field(default_factory=list)
    referrer_organization: dict | None = None

    def all(self) -> list[dict]:
        """Every resource, in bundle order."""
        resources = [self.patient, self.service_request, self.encounter, *self.consents]
        if self.referrer_organization is not None:
            resources.append(self.referrer_organization)
        return resources


def referral_to_fhir(
    referral: Referral,
    ids: ReferralResourceIds,
    *,
    performer: str | None = None,
    provider: str | None = None,
) -> ReferralResources:
    """Map a referral to UK Core-aligned R4 resources.

    performer is the L&D HealthcareService for the site (`HealthcareService/x`), provider the trust
    that runs it (`Organization/y`); both come from the service directory.
    """
    if len(ids.consents) != len(referral.consents):
        raise ValueError("ids.consents must hold one id per consent decision")
    organization = referrer_organization(referral.referrer, ids.referrer_organization)
    return ReferralResources(
        patient=patient_from_person(referral.person, ids.patient),
        service_request=service_request_from_referral(referral, ids, organization, performer),
        encounter=encounter_from_referral(referral, ids, provider),
        consents=[
            consent_from_decision(decision, consent_id, ids.patient)
            for decision, consent_id in zip(referral.consents, ids.consents, strict=True)
        ],
        referrer_organization=organization,
    )


def referral_from_fhir(resources: ReferralResources) -> Referral:
    """The Referral that `referral_to_fhir` made these resources from."""
    request = resources.service_request
    return Referral(
        local_id=_local_id(request),
        received_at=parse_datetime(request.get("authoredOn"), "ServiceRequest.authoredOn"),
        source=code_from_extension(
            request, "referral-source", "nhsdd-source-of-referral-mh", "ServiceRequest.extension"
        ),
        setting=setting_from(resources.encounter),
        site=_site(request),
        person=person_from_patient(resources.patient),
        urgency=_urgency(request),
        referrer=_referrer(request, resources.referrer_organization),
        concerns=concerns_from(request.get("reasonCode")),
        consents=tuple(
            decision_from_consent(consent, index)
            for index, consent in enumerate(resources.consents)
        ),
        youth=youth_from(resources.encounter),
        notes=tuple(
            note["text"]
            for note in as_list(request.get("note"))
            if isinstance(note, dict) and string_or_none(note.get("text"))
        ),
        status=code_from_extension(
            request, "pathway-status", "ld-pathway-status", "ServiceRequest.extension"
        ),
    )


def _local_id(request: dict) -> str:
    system = codes.url("identifier.referral-local-id")
    for identifier in as_list(request.get("identifier")):
        if isinstance(identifier, dict) and identifier.get("system") == system:
            value = string_or_none(identifier.get("value"))
            if value:
                return value
    raise invalid(f"Expected an identifier with system {system}.", "ServiceRequest.identifier")


def _site(request: dict) -> str:
    for ref in as_list(request.get("locationReference")):
        site = reference_id(ref, "Location")
        if site:
            return site
    raise invalid("Expected a Location reference.", "ServiceRequest.locationReference")


def _urgency(request: dict) -> str:
    priority = request.get("priority", "routine")
    if not codes.has("request-priority", priority):
        raise InvalidInput(
            Issue(
                f"Expected a code from {codes.system('request-priority')}.",
                expression=("ServiceRequest.priority",),
            )
        )
    return priority


def _referrer(request: dict, organization: dict | None) -> Referrer | None:
    ref = as_dict(request.get("requester")).get("reference")
    if ref != f"#{REFERRER_CONTAINED_ID}":
        return None
    for contained in as_list(request.get("contained")):
        if isinstance(contained, dict) and contained.get("id") == REFERRER_CONTAINED_ID:
            return referrer_from(contained, organization)
    raise invalid(
        "Expected the contained PractitionerRole the requester names.", "ServiceRequest.contained"
    )
