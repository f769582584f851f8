"""Assessment risks ⇄ UK Core-aligned Flags, one per risk or safeguarding concern found."""

from __future__ import annotations

from adapter.domain.assessment import Assessment
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    fhir_datetime,
    invalid,
    profile,
    reference,
)
from adapter.mapping.contact import AUTHOR_ID, practitioner_contained
from adapter.mapping.narrative import narrative

RISK = "ld-risk-flag"


def flag_from_risk(
    assessment: Assessment, risk: str, flag_id: str, patient: str, encounter: str
) -> dict:
    """An active Flag warning a receiving system's users of one risk the practitioner found."""
    display = codes.display(RISK, risk)
    category = dict(codes.prop(RISK, risk, "flag-category"))
    started = fhir_datetime(assessment.started_at)
    return {
        "resourceType": "Flag",
        "id": flag_id,
        "meta": profile("Flag"),
        "text": narrative(
            display,
            [
                ("Category", str(category.get("display", category["code"]))),
                ("Raised", started),
                ("By", assessment.practitioner.name),
            ],
        ),
        "contained": practitioner_contained(assessment.practitioner),
        "status": codes.url(f"value.assessment-flag-status.{assessment.status}"),
        "category": [{"coding": [category]}],
        "code": {"coding": [codes.coding(RISK, risk)], "text": display},
        "subject": reference("Patient", patient),
        "period": {"start": started},
        "encounter": reference("Encounter", encounter),
        "author": {"reference": f"#{AUTHOR_ID}"},
    }


def risk_from_flag(flag: dict, index: int) -> str:
    """The ld-risk-flag code a Flag carries."""
    code = codes.code_from(RISK, as_dict(flag.get("code")).get("coding"))
    if code is None:
        raise invalid(f"Expected a code from {codes.system(RISK)}.", f"Flag[{index}].code")
    return code
