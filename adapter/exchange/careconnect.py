"""The CareConnect (STU3) Patient of a GP Connect Send Document, from our stored R4 Patient.

Only the elements STU3 shares with R4 are carried, already cut to the disclosure rule. The NHS
number's verification status is CareConnect's own extension (1..1 in CareConnect-Patient-1,
nhsconnect/STU3-FHIR-Assets), whose codes 01-08 mean what UK Core's do; its URLs and displays are
data (mappings/gp-send-document.json, document.nhs-number-verification).
"""

from __future__ import annotations

from adapter.mapping import codes

PATIENT_ELEMENTS = ("identifier", "name", "telecom", "gender", "birthDate", "address")


def careconnect_patient(patient: dict, profile: str, verification: dict) -> dict:
    """The CareConnect Patient: the disclosed elements STU3 shares with R4, our id kept."""
    stu3 = {"resourceType": "Patient", "id": patient["id"]}
    stu3["meta"] = {"profile": [profile]}
    for element in PATIENT_ELEMENTS:
        if element in patient:
            stu3[element] = patient[element]
    if "identifier" in stu3:  # UK Core's verification extension is not CareConnect's
        stu3["identifier"] = [_identifier(i, verification) for i in stu3["identifier"]]
    return stu3


def _identifier(identifier: dict, verification: dict) -> dict:
    """System and value; an NHS number with CareConnect's verification status (1..1)."""
    bare = {k: v for k, v in identifier.items() if k in ("system", "value")}
    if bare.get("system") != codes.url("identifier.nhs-number"):
        return bare
    code = _verification_code(identifier)
    if code not in verification["displays"]:
        code = verification["default"]
    coding = {"system": verification["system"], "code": code}
    coding["display"] = verification["displays"][code]
    extension = {"url": verification["extension"], "valueCodeableConcept": {"coding": [coding]}}
    return {"extension": [extension], **bare}


def _verification_code(identifier: dict) -> object:
    """The code of the identifier's UK Core verification status extension, if any."""
    url = codes.url("extension.nhs-number-verification-status")
    for extension in identifier.get("extension", ()):
        if isinstance(extension, dict) and extension.get("url") == url:
            concept = extension.get("valueCodeableConcept") or {}
            return next((c.get("code") for c in concept.get("coding", ())), None)
    return None
