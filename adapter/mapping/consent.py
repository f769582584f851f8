"""ConsentDecision ⇄ Consent, one resource per decision."""

from __future__ import annotations

from adapter.domain import ConsentDecision
from adapter.mapping import codes
from adapter.mapping.common import (
    as_dict,
    as_list,
    code_from_extension,
    coded_extension,
    fhir_datetime,
    find_extension,
    invalid,
    parse_datetime,
    profile,
    reference,
    string_or_none,
    sub_extension,
)

_SCOPE = "ld-consent-scope"
_DECISION = "ld-consent-decision"
_CAPACITY = "ld-mental-capacity"
_BASIS = "ld-lawful-basis"


def consent_from_decision(decision: ConsentDecision, consent_id: str, patient_id: str) -> dict:
    """A Consent for one decision; scope and category as in the UK Core example."""
    consent: dict = {
        "resourceType": "Consent",
        "id": consent_id,
        "meta": profile("Consent"),
        "extension": [
            coded_extension("consent-decision", _DECISION, decision.decision),
            coded_extension("mental-capacity", _CAPACITY, decision.capacity),
            _recorder(decision),
        ],
        "status": "active",
        "scope": {"coding": [dict(codes.prop(_SCOPE, decision.scope, "fhir-scope"))]},
        "category": [
            {"coding": [dict(codes.prop(_SCOPE, decision.scope, "fhir-category"))]},
            {"coding": [codes.coding(_SCOPE, decision.scope)]},
        ],
        "patient": reference("Patient", patient_id),
        "dateTime": fhir_datetime(decision.recorded_at),
        # ppc-1 needs a policy or a policyRule; the service's sharing policy always applies.
        "policy": [{"uri": codes.url("value.consent-policy")}],
    }
    if decision.lawful_basis:
        consent["policyRule"] = {"coding": [codes.coding(_BASIS, decision.lawful_basis)]}
    consent["provision"] = {"type": codes.prop(_DECISION, decision.decision, "provision-type")}
    return consent


def _recorder(decision: ConsentDecision) -> dict:
    parts = [{"url": "name", "valueString": decision.recorded_by}]
    if decision.recorded_by_role:
        parts.append({"url": "role", "valueString": decision.recorded_by_role})
    return {"url": codes.url("extension.consent-recorder"), "extension": parts}


def decision_from_consent(consent: dict, index: int) -> ConsentDecision:
    """The ConsentDecision a Consent made by `consent_from_decision` records."""
    where = f"Consent[{index}]"
    scope = None
    for category in as_list(consent.get("category")):
        scope = scope or codes.code_from(_SCOPE, as_dict(category).get("coding"))
    if scope is None:
        raise invalid(
            f"Expected a category coding from {codes.system(_SCOPE)}.", f"{where}.category"
        )
    recorder = find_extension(consent, "consent-recorder") or {}
    name = string_or_none((sub_extension(recorder, "name") or {}).get("valueString"))
    if name is None:
        raise invalid("Expected the consent recorder extension with a name.", f"{where}.extension")
    role = (sub_extension(recorder, "role") or {}).get("valueString")
    return ConsentDecision(
        scope=scope,
        decision=code_from_extension(consent, "consent-decision", _DECISION, f"{where}.extension"),
        capacity=code_from_extension(consent, "mental-capacity", _CAPACITY, f"{where}.extension"),
        recorded_by=name,
        recorded_at=parse_datetime(consent.get("dateTime"), f"{where}.dateTime"),
        recorded_by_role=string_or_none(role),
        lawful_basis=codes.code_from(_BASIS, as_dict(consent.get("policyRule")).get("coding")),
    )
