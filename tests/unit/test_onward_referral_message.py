"""Onward referral messages: golden per recipient type, nothing outside the disclosure rule, valid.

Goldens: fixtures/messages/NAME.message.json, one per scenario of tests/support/onward.py;
after an intended change, regenerate them and review the diff:

    LD_ADAPTER_UPDATE_GOLDENS=1 .venv/bin/pytest tests/unit/test_onward_referral_message.py
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from adapter.conformance import has_errors, validate
from adapter.exchange.disclosure import ALWAYS, VULNERABILITY, Disclosure, minimise
from adapter.exchange.message import cancellation_message
from adapter.mapping import codes
from adapter.mapping.onward_referral import revoked
from tests.support.golden import strip_volatile
from tests.support.onward import (
    AT,
    CANCELLATION_ID,
    ROOT,
    SCENARIOS,
    SENDER,
    Scenario,
    build,
    of_type,
    partner,
    stored,
)

GOLDEN = ROOT / "fixtures" / "messages"
CRIMINAL_JUSTICE_IDS = ("custody-record-number", "pnc-id", "court-case-number")


def _resources(message: dict) -> list[dict]:
    return [entry["resource"] for entry in message["entry"][1:]]  # after the MessageHeader


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_message_matches_golden(scenario: Scenario) -> None:
    message = strip_volatile(build(scenario).message)
    golden = GOLDEN / f"{scenario.name}.message.json"
    if os.environ.get("LD_ADAPTER_UPDATE_GOLDENS") == "1":
        golden.write_text(json.dumps(message, indent=2, ensure_ascii=False) + "\n")
    assert message == json.loads(golden.read_text(encoding="utf-8"))


def _outside_rule(resource: dict, disclosure: Disclosure) -> list[str]:
    """Every element of resource the disclosure does not allow, as a readable path."""
    rtype = resource["resourceType"]
    rule = disclosure.resources.get(rtype)
    if rule is None:
        return [rtype]
    found = [f"{rtype}.{k}" for k in resource if k not in ALWAYS | rule.elements]
    for ext in resource.get("extension", ()):
        if ext["url"] not in rule.extensions:
            found.append(f"{rtype}.extension({ext['url']})")
    for identifier in resource.get("identifier", ()):
        if rule.identifier_systems is not None and identifier["system"] not in (
            rule.identifier_systems
        ):
            found.append(f"{rtype}.identifier({identifier['system']})")
    for concept in resource.get("reasonCode", ()):
        finding = codes.code_from(VULNERABILITY, concept.get("coding"))
        if "coding" in concept and finding not in disclosure.findings:
            found.append(f"{rtype}.reasonCode({finding})")
    if "meta" in resource and set(resource["meta"]) - {"profile"}:
        found.append(f"{rtype}.meta")
    return found


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_element_of_the_message_is_allowed_by_the_recipient_types_rule(
    scenario: Scenario,
) -> None:
    built = build(scenario)
    problems = [
        path
        for resource in _resources(built.message)
        for path in _outside_rule(resource, built.basis.disclosure)
    ]
    assert problems == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_identifiers_of_the_justice_system_reach_only_justice_and_home_area_ld(
    scenario: Scenario,
) -> None:
    message = build(scenario).message
    text = json.dumps(message)
    patient = of_type(stored(scenario.referral), "Patient")[0]
    justice_values = [
        i["value"]
        for i in patient.get("identifier", ())
        if i["system"].rsplit("/", 1)[-1] in CRIMINAL_JUSTICE_IDS
    ]
    if scenario.recipient_type in ("criminal-justice", "home-area-ld"):
        return
    assert [v for v in justice_values if v in text] == []
    assert not any(name in text for name in CRIMINAL_JUSTICE_IDS)


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.recipient_type == "health"], ids=lambda s: s.name
)
def test_a_health_partner_is_told_nothing_of_custody_or_offences(scenario: Scenario) -> None:
    message = build(scenario).message
    types = {resource["resourceType"] for resource in _resources(message)}
    assert types.isdisjoint({"QuestionnaireResponse", "Encounter", "Location"})
    text = json.dumps(message).lower()
    referral = of_type(stored(scenario.referral), "ServiceRequest")[0]
    assert "custody" not in text and "police" not in text
    assert referral["identifier"][0]["value"].lower() not in text  # the police's referral id


def test_home_area_ld_gets_the_screen_and_its_contact() -> None:
    scenario = next(s for s in SCENARIOS if s.recipient_type == "home-area-ld")
    types = [r["resourceType"] for r in _resources(build(scenario).message)]
    assert types.count("QuestionnaireResponse") == 1 and types.count("Encounter") == 1


def test_limited_criminal_justice_consent_gets_the_narrower_disclosure() -> None:
    by_name = {s.name: build(s) for s in SCENARIOS if s.recipient_type == "criminal-justice"}
    limited, agreed = by_name["criminal-justice-limited"], by_name["criminal-justice-agreed"]
    assert (limited.basis.disclosure.name, agreed.basis.disclosure.name) == ("limited", "standard")
    assert limited.basis.disclosure.findings < agreed.basis.disclosure.findings
    patient = of_type(_resources(limited.message), "Patient")[0]
    assert "address" not in patient and "gender" not in patient
    reasons = of_type(_resources(limited.message), "ServiceRequest")[0]["reasonCode"]
    # court-cannock's referral found learning disability, debt and housing at risk
    assert [c.get("coding", [{}])[0].get("code") for c in reasons] == ["learning-disability", None]


def test_references_resolve_inside_the_message_or_are_logical() -> None:
    for scenario in SCENARIOS:
        message = build(scenario).message
        inside = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in message["entry"]}
        for ref in _references(message):
            if "reference" in ref and not ref["reference"].startswith("#"):
                assert tuple(ref["reference"].split("/")) in inside, (scenario.name, ref)
            elif "reference" not in ref:
                assert ref["identifier"]["system"] == codes.url("identifier.ld-referral")


def _references(value: object) -> list[dict]:
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    if not isinstance(value, dict):
        return []
    if "reference" in value or value.get("type") == "ServiceRequest":
        return [value]
    return [ref for item in value.values() for ref in _references(item)]


def test_a_person_with_no_identifier_the_partner_may_see_gets_our_local_one() -> None:
    scenario = next(s for s in SCENARIOS if s.name == "community-support-housing")
    patient = of_type(_resources(build(scenario).message), "Patient")[0]
    assert patient["identifier"] == [
        {
            "type": {"coding": [codes.coding("ld-local-identifier-type", "local-patient-id")]},
            "system": codes.url("identifier.local-patient-id"),
            "value": "patient-1",
            "assigner": {"identifier": {"system": codes.url("identifier.ods-organization-code"),
                                        "value": "RRE"}},
        }
    ]  # fmt: skip


def test_allowed_findings_keep_the_referrals_order_and_drop_the_rest() -> None:
    disclosure = build(next(s for s in SCENARIOS if s.name == "community-support-housing")).basis
    concerns = ["mental-health", "homelessness", "drugs", "debt-finances", "homelessness"]
    assert disclosure.disclosure.allowed_findings(concerns) == ("homelessness", "debt-finances")


def test_minimise_leaves_out_resource_types_the_rule_does_not_name() -> None:
    disclosure = build(SCENARIOS[0]).basis.disclosure
    assert minimise({"resourceType": "Encounter", "id": "e"}, disclosure) is None
    assert minimise({"resourceType": "Location", "id": "l"}, disclosure) is None


def _cancellation(scenario: Scenario) -> dict:
    built = build(scenario)
    return cancellation_message(
        CANCELLATION_ID,
        AT,
        revoked(built.service_request),
        built.message,
        partner(scenario.recipient_type),
        SENDER,
    )


def test_cancellation_matches_golden() -> None:
    scenario = next(s for s in SCENARIOS if s.name == "health-gp")
    message = strip_volatile(_cancellation(scenario))
    golden = GOLDEN / f"{scenario.name}.cancellation.json"
    if os.environ.get("LD_ADAPTER_UPDATE_GOLDENS") == "1":
        golden.write_text(json.dumps(message, indent=2, ensure_ascii=False) + "\n")
    assert message == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_cancellation_repeats_nothing_new_and_revokes(scenario: Scenario) -> None:
    sent = build(scenario).message
    cancellation = _cancellation(scenario)
    header = cancellation["entry"][0]["resource"]
    assert header["reason"]["coding"][0]["code"] == "delete"
    request = of_type(_resources(cancellation), "ServiceRequest")[0]
    assert request["status"] == "revoked"
    assert request["identifier"] == [
        {"system": codes.url("identifier.onward-referral"), "value": "onward-1"}
    ]
    patient = of_type(_resources(cancellation), "Patient")[0]
    sent_patient = of_type(_resources(sent), "Patient")[0]
    assert set(patient) <= {"resourceType", "id", "meta", "identifier", "name", "birthDate"}
    assert all(patient[k] == sent_patient[k] for k in patient)
    assert {r["resourceType"] for r in _resources(cancellation)} <= {
        "ServiceRequest",
        "Patient",
        "Organization",
        "HealthcareService",
    }


def _all_messages() -> list[tuple[str, dict]]:
    found = []
    for scenario in SCENARIOS:
        found.append((scenario.name, build(scenario).message))
        found.append((f"{scenario.name}-cancellation", _cancellation(scenario)))
    return found


def test_every_message_passes_our_validator_without_warnings() -> None:
    for name, message in _all_messages():
        issues = [i for i in validate(message) if i.severity != "information"]
        assert not has_errors(issues)
        assert [(i.message_id, i.expression) for i in issues] == [], name


def test_every_message_passes_fhirjs(fhirjs) -> None:  # type: ignore[no-untyped-def]
    for name, message in _all_messages():
        assert fhirjs.validate(message) == [], name


def test_minimising_leaves_the_stored_resource_as_it_was() -> None:
    scenario = next(s for s in SCENARIOS if s.name == "health-gp")
    patient = of_type(stored(scenario.referral), "Patient")[0]
    before = copy.deepcopy(patient)
    cut = minimise(patient, build(scenario).basis.disclosure)
    assert cut is not None and cut != patient
    assert patient == before


def test_a_partner_resource_without_profiles_is_sent_without_meta() -> None:
    # Partners bundles need not claim profiles; the store adds only versionId and lastUpdated.
    organization = partner("health").organization
    held = {**organization, "meta": {"versionId": "3", "lastUpdated": "2026-12-01T00:00:00Z"}}
    cut = minimise(held, build(SCENARIOS[0]).basis.disclosure)
    assert cut is not None and "meta" not in cut
