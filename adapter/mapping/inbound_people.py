"""Who made a received referral: its requester, as a Referrer, in either message shape."""

from __future__ import annotations

from dataclasses import replace

from adapter.domain import Referrer
from adapter.mapping.common import as_dict, as_list, string_or_none
from adapter.mapping.message_bundle import MessageBundle
from adapter.mapping.organization import referrer_from


def referrer_of(message: MessageBundle, request: dict) -> Referrer | None:
    """The ServiceRequest's requester: a PractitionerRole (contained or an entry), a
    Practitioner (with the PractitionerRole naming it, if any) or an Organization."""
    requester = message.resolve(request.get("requester"), request)
    kind = (requester or {}).get("resourceType")
    if requester is None or kind == "Patient":
        return None
    if kind == "Organization":
        return _with_organization(Referrer(), requester)
    role = requester if kind == "PractitionerRole" else _role_naming(message, requester)
    practitioner = requester if kind == "Practitioner" else None
    if role is not None:
        if practitioner is None:
            practitioner = message.resolve(role.get("practitioner"))
        organization = message.resolve(role.get("organization"), request)
        referrer = referrer_from(role, None)
        referrer = replace(
            referrer,
            name=referrer.name or _name(practitioner),
            role=referrer.role or _role_text(role),
            phone=referrer.phone or _phone(practitioner),
        )
        return _with_organization(referrer, organization)
    return Referrer(name=_name(practitioner), phone=_phone(practitioner))


def _role_naming(message: MessageBundle, practitioner: dict) -> dict | None:
    for role in message.of_type("PractitionerRole"):
        if message.resolve(role.get("practitioner")) is practitioner:
            return role
    return None


def _with_organization(referrer: Referrer, organization: dict | None) -> Referrer:
    if organization is None or organization.get("resourceType") != "Organization":
        return referrer
    return replace(
        referrer,
        organisation_ods=_ods(organization) or referrer.organisation_ods,
        organisation_name=string_or_none(organization.get("name")) or referrer.organisation_name,
    )


def _ods(organization: dict) -> str | None:
    # BaRS examples spell the system `…/id/ods-organization-code`; NHS England's is `…/Id/…`.
    for identifier in as_list(organization.get("identifier")):
        identifier = as_dict(identifier)
        if str(identifier.get("system", "")).lower().endswith("/id/ods-organization-code"):
            return string_or_none(identifier.get("value"))
    return None


def _name(practitioner: dict | None) -> str | None:
    if practitioner is None:
        return None
    for name in as_list(practitioner.get("name")):
        name = as_dict(name)
        if string_or_none(name.get("text")):
            return str(name["text"])
        parts = [*(g for g in as_list(name.get("given")) if isinstance(g, str)), name.get("family")]
        joined = " ".join(p for p in parts if isinstance(p, str) and p)
        if joined:
            return joined
    return None


def _role_text(role: dict) -> str | None:
    for concept in as_list(role.get("code")):
        concept = as_dict(concept)
        text = string_or_none(concept.get("text"))
        for coding in as_list(concept.get("coding")):
            text = text or string_or_none(as_dict(coding).get("display"))
        if text:
            return text
    return None


def _phone(resource: dict | None) -> str | None:
    for telecom in as_list((resource or {}).get("telecom")):
        telecom = as_dict(telecom)
        if telecom.get("system") == "phone":
            return string_or_none(telecom.get("value"))
    return None
