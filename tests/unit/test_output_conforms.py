"""What the adapter emits conforms to our profiles and the UK Core profiles they derive from.

The items are built from every native fixture (tests/support/emitted.py): referrals, screens, the
onward referral of every recipient type with its Task, message and cancellation, every response,
and the service directory. Each is validated as it claims (meta.profile: our profile and the UK Core
one) and, for each of our profiles it claims, against that profile's UK Core baseDefinition named
explicitly, so a UK Core rule our profile does not restate still counts.
"""

from __future__ import annotations

import pytest

from adapter.conformance import validate
from adapter.conformance.package import package
from adapter.errors import Issue
from tests.support.emitted import everything

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
ITEMS = everything()


def _claimed(resource: dict) -> list[str]:
    return list(resource.get("meta", {}).get("profile", ()))


def _uk_core_bases(resource: dict) -> list[str]:
    """The UK Core profile each of our claimed profiles derives from."""
    bases = []
    for url in _claimed(resource):
        ours = package().canonical(url)
        base = (ours or {}).get("baseDefinition", "")
        if base.startswith(UK_CORE):
            bases.append(base)
    return bases


def _problems(issues: list[Issue]) -> list[tuple[str, str, str]]:
    """Errors, warnings (a missed extensible binding) and any profile the validator cannot check."""
    return [
        (i.message_id or i.code, i.expression[0] if i.expression else "", i.diagnostics)
        for i in issues
        if i.severity in ("error", "fatal", "warning") or i.message_id == "LD-PROFILE-NOT-OURS"
    ]


@pytest.mark.parametrize(("label", "resource"), ITEMS, ids=[label for label, _ in ITEMS])
def test_emitted_resource_conforms_to_what_it_claims(label: str, resource: dict) -> None:
    assert _problems(validate(resource)) == []


@pytest.mark.parametrize(
    ("label", "resource"),
    [(label, r) for label, r in ITEMS if _uk_core_bases(r)],
    ids=[label for label, r in ITEMS if _uk_core_bases(r)],
)
def test_emitted_resource_conforms_to_the_uk_core_profile_ours_derives_from(
    label: str, resource: dict
) -> None:
    for base in _uk_core_bases(resource):
        assert _problems(validate(resource, base)) == [], base


def test_every_kind_of_emitted_resource_and_its_uk_core_profiles_are_covered() -> None:
    claimed = {(r["resourceType"], p) for _, r in ITEMS for p in _claimed(r) if UK_CORE in p}
    wanted = {
        "Patient",
        "ServiceRequest",
        "Encounter",
        "Consent",
        "Organization",
        "HealthcareService",
        "Flag",
        "Task",
    }
    assert {rtype for rtype, _ in claimed} >= wanted
    bases = {base for _, r in ITEMS for base in _uk_core_bases(r)}
    assert f"{UK_CORE}UKCore-QuestionnaireResponse" in bases
    assert f"{UK_CORE}UKCore-MessageHeader" in bases
    assert f"{UK_CORE}UKCore-DocumentReference" in bases  # the justice report's record
    legal = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-LegalStatus"
    assert any(
        ext.get("url") == legal
        for _, r in ITEMS
        if r["resourceType"] == "Encounter"
        for ext in r.get("extension", ())
    )
