"""Referral ⇄ the Encounter for the custody or court contact, with youth details."""

from __future__ import annotations

from adapter.domain import Referral, ReferralResourceIds, YouthDetails
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    as_list,
    fhir_datetime,
    find_extension,
    invalid,
    profile,
    reference,
    string_or_none,
    sub_extension,
)

_SETTING = "ld-referral-setting"
_SETTING_MAP = "ld-referral-setting-to-activity-location-type"
_ADULT_ID = "appropriate-adult"


def encounter_from_referral(
    referral: Referral, ids: ReferralResourceIds, provider: str | None = None
) -> dict:
    """The L&D contact the referral asks for; provider is the L&D trust (`Organization/mpft`)."""
    encounter: dict = {"resourceType": "Encounter", "id": ids.encounter}
    encounter["meta"] = profile("Encounter")
    youth = referral.youth
    adult = _appropriate_adult(youth, ids.patient) if youth else None
    if adult:
        encounter["contained"] = [adult]
    youth_extension = _youth_extension(youth) if youth else None
    if youth_extension:
        encounter["extension"] = [youth_extension]
    encounter["status"] = codes.prop("ld-pathway-status", referral.status, "encounter-status")
    encounter["class"] = dict(codes.prop(_SETTING, referral.setting, "encounter-class"))
    encounter["type"] = [{"coding": setting_codings(referral.setting)}]
    encounter["subject"] = reference("Patient", ids.patient)
    encounter["basedOn"] = [reference("ServiceRequest", ids.service_request)]
    if youth and (adult or youth.appropriate_adult_present):
        participant: dict = {"type": [{"text": codes.url("value.appropriate-adult-participant")}]}
        if adult:
            participant["individual"] = {"reference": f"#{_ADULT_ID}"}
        encounter["participant"] = [participant]
    encounter["period"] = {"start": fhir_datetime(referral.received_at)}
    encounter["location"] = [{"location": reference("Location", referral.site)}]
    if provider is not None:
        encounter["serviceProvider"] = {"reference": provider}
    return encounter


def setting_codings(setting: str) -> list[dict]:
    """The project setting coding, with the Activity Location Type coding where it is equivalent."""
    coding = [codes.coding(_SETTING, setting)]
    for target in codes.translate(_SETTING_MAP, setting):
        if target.equivalence in ("equal", "equivalent"):
            location_type = {"system": target.system, "code": target.code}
            if target.display:
                location_type["display"] = target.display
            coding.append(location_type)
    return coding


def _youth_extension(youth: YouthDetails) -> dict | None:
    parts: list[dict] = []
    if youth.appropriate_adult_present is not None:
        parts.append(
            {"url": "appropriateAdultPresent", "valueBoolean": youth.appropriate_adult_present}
        )
    if youth.youth_offending_team:
        parts.append({"url": "youthOffendingTeam", "valueString": youth.youth_offending_team})
    if not parts:
        return None  # An extension needs a value; the native schema always gives one.
    return {"url": codes.url("extension.youth-details"), "extension": parts}


def _appropriate_adult(youth: YouthDetails, patient_id: str) -> dict | None:
    if not (youth.appropriate_adult_name or youth.appropriate_adult_relationship):
        return None
    adult: dict = {
        "resourceType": "RelatedPerson",
        "id": _ADULT_ID,
        "patient": reference("Patient", patient_id),
    }
    if youth.appropriate_adult_relationship:
        adult["relationship"] = [{"text": youth.appropriate_adult_relationship}]
    if youth.appropriate_adult_name:
        adult["name"] = [{"text": youth.appropriate_adult_name}]
    return adult


def setting_from(encounter: dict) -> str:
    """The referral setting held in Encounter.type."""
    for concept in as_list(encounter.get("type")):
        code = codes.code_from(_SETTING, as_dict(concept).get("coding"))
        if code is not None:
            return code
    raise invalid(f"Expected a type coding from {codes.system(_SETTING)}.", "Encounter.type")


def youth_from(encounter: dict) -> YouthDetails | None:
    """Youth details from the youth extension and the contained appropriate adult."""
    ext = find_extension(encounter, "youth-details")
    if ext is None:
        return None
    present = (sub_extension(ext, "appropriateAdultPresent") or {}).get("valueBoolean")
    team = (sub_extension(ext, "youthOffendingTeam") or {}).get("valueString")
    adult = next(
        (
            r
            for r in as_list(encounter.get("contained"))
            if isinstance(r, dict) and r.get("id") == _ADULT_ID
        ),
        {},
    )
    relationship = as_dict(next(iter(as_list(adult.get("relationship"))), {}))
    name = as_dict(next(iter(as_list(adult.get("name"))), {}))
    return YouthDetails(
        appropriate_adult_present=present if isinstance(present, bool) else None,
        appropriate_adult_name=string_or_none(name.get("text")),
        appropriate_adult_relationship=string_or_none(relationship.get("text")),
        youth_offending_team=string_or_none(team),
    )
