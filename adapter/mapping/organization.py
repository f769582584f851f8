"""Referrer ⇄ a contained PractitionerRole and the referrer's Organization."""

from __future__ import annotations

from adapter.domain import Referrer
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    as_list,
    profile,
    reference,
    reference_id,
    string_or_none,
)

REFERRER_CONTAINED_ID = "referrer"


def referrer_organization(referrer: Referrer | None, organization_id: str | None) -> dict | None:
    """An Organization for the referrer's organisation, when there is one and an id for it."""
    if referrer is None or organization_id is None:
        return None
    if not (referrer.organisation_ods or referrer.organisation_name):
        return None
    organization: dict = {
        "resourceType": "Organization",
        "id": organization_id,
        "meta": profile("Organization"),
    }
    if referrer.organisation_ods:
        organization["identifier"] = [_ods(referrer.organisation_ods)]
    if referrer.organisation_name:
        organization["name"] = referrer.organisation_name
    return organization


def practitioner_role(referrer: Referrer, organization: dict | None) -> dict:
    """The referrer as a PractitionerRole to contain in the ServiceRequest."""
    role: dict = {"resourceType": "PractitionerRole", "id": REFERRER_CONTAINED_ID}
    if referrer.name:
        role["practitioner"] = {"display": referrer.name}
    if organization is not None:
        role["organization"] = reference("Organization", organization["id"])
    elif referrer.organisation_ods or referrer.organisation_name:
        # No Organization resource to point at: a logical reference keeps what we know.
        logical: dict = {}
        if referrer.organisation_ods:
            logical["identifier"] = _ods(referrer.organisation_ods)
        if referrer.organisation_name:
            logical["display"] = referrer.organisation_name
        role["organization"] = logical
    if referrer.role:
        role["code"] = [{"text": referrer.role}]
    if referrer.phone:
        role["telecom"] = [{"system": "phone", "value": referrer.phone, "use": "work"}]
    return role


def _ods(code: str) -> dict:
    return {"system": codes.url("identifier.ods-organization-code"), "value": code}


def referrer_from(role: dict, organization: dict | None) -> Referrer:
    """The Referrer held by a PractitionerRole and, if referenced, its Organization."""
    org_ref = as_dict(role.get("organization"))
    if organization is not None and reference_id(org_ref, "Organization") == organization.get("id"):
        ods = _ods_of(as_list(organization.get("identifier")))
        name = string_or_none(organization.get("name"))
    else:
        ods = _ods_of([org_ref.get("identifier")])
        name = string_or_none(org_ref.get("display"))
    telecom = [t for t in as_list(role.get("telecom")) if isinstance(t, dict)]
    phone = next((t.get("value") for t in telecom if t.get("system") == "phone"), None)
    codes_ = [c for c in as_list(role.get("code")) if isinstance(c, dict)]
    return Referrer(
        name=string_or_none(as_dict(role.get("practitioner")).get("display")),
        role=string_or_none(codes_[0].get("text")) if codes_ else None,
        organisation_ods=ods,
        organisation_name=name,
        phone=string_or_none(phone),
    )


def _ods_of(identifiers: object) -> str | None:
    system = codes.url("identifier.ods-organization-code")
    for identifier in identifiers if isinstance(identifiers, list | tuple) else ():
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return string_or_none(identifier.get("value"))
    return None
