"""The onward referral rules under mappings/: complete, and naming only codes that exist."""

from __future__ import annotations

import json

import pytest

from adapter.conformance.package import package
from adapter.conformance.profiles import profiles
from adapter.exchange.disclosure import disclosure_rules
from adapter.exchange.partner_rules import pathway_recipient_types
from adapter.mapping import codes
from adapter.mapping.onward_referral import referral_code

ONWARD_CODES = "https://ld-adapter.github.io/fhir/ValueSet/ld-onward-referral-code"
DEFINITION = "https://ld-adapter.github.io/fhir/MessageDefinition/ld-onward-referral-request"
JUSTICE_SYSTEMS = {
    codes.prop("ld-local-identifier-type", code, "identifier-system")
    for code in ("custody-record-number", "pnc-id", "court-case-number")
}


@pytest.mark.parametrize("pathway", codes.codes("ld-onward-referral"))
def test_every_pathway_asks_for_a_code_of_the_onward_referral_value_set(pathway: str) -> None:
    coding = referral_code(pathway)
    expansion = profiles().terminology.expand(ONWARD_CODES)
    assert expansion is not None
    assert (coding["system"], coding["code"]) in expansion.codes


def test_project_referral_codes_match_their_code_system() -> None:
    for pathway in codes.codes("ld-onward-referral"):
        coding = referral_code(pathway)
        if coding["system"] == codes.system("ld-service-request-code"):
            concept = codes.code_list("ld-service-request-code").concepts[coding["code"]]
            assert concept.display == coding["display"]


def test_domain_snomed_codes_are_used_where_listed() -> None:
    expected = {
        "gp": "183561008",
        "secondary-mental-health": "390866009",
        "substance-misuse": "417096006",
        "learning-disability-service": "413127007",
        "housing": "710911006",
        "financial-advice": "710913009",
        "adult-safeguarding": "444543005",
        "child-safeguarding": "309630000",
    }
    assert {p: referral_code(p)["code"] for p in expected} == expected


def test_every_pathway_names_the_recipient_types_that_may_take_it() -> None:
    allowed = pathway_recipient_types()
    assert set(allowed) == set(codes.codes("ld-onward-referral"))
    assert all(types and all(codes.has("ld-recipient-type", t) for t in types)
               for types in allowed.values())  # fmt: skip
    assert set().union(*allowed.values()) == set(codes.codes("ld-recipient-type"))
    assert allowed["gp"] == {"health"}
    assert allowed["criminal-justice"] == {"criminal-justice"}
    assert allowed["adult-safeguarding"] == {"safeguarding"}


def test_every_recipient_type_has_exactly_one_rule() -> None:
    assert set(disclosure_rules()) == set(codes.codes("ld-recipient-type"))


@pytest.mark.parametrize("recipient_type", codes.codes("ld-recipient-type"))
def test_a_rule_names_only_codes_that_exist(recipient_type: str) -> None:
    rule = disclosure_rules()[recipient_type]
    assert codes.has("ld-consent-scope", rule.consent_scope)
    assert all(codes.has("ld-consent-decision", d) for d in rule.permits)
    assert "declined" not in rule.permits
    assert all(codes.has("ld-lawful-basis", b) for b in rule.lawful_bases)
    for disclosure in rule.disclosures.values():
        assert all(codes.has("ld-vulnerability", f) for f in disclosure.findings)


@pytest.mark.parametrize("recipient_type", codes.codes("ld-recipient-type"))
def test_a_rule_discloses_only_what_the_message_definition_carries(recipient_type: str) -> None:
    definition = package().canonical(DEFINITION)
    assert definition is not None
    carried = {row["code"] for row in definition["focus"]} - {"Bundle", "MessageHeader"}
    for disclosure in disclosure_rules()[recipient_type].disclosures.values():
        assert set(disclosure.resources) <= carried
        assert {"ServiceRequest", "Patient", "Consent"} <= set(disclosure.resources)


def test_only_safeguarding_may_be_told_without_consent() -> None:
    without = {t for t, rule in disclosure_rules().items() if rule.lawful_bases}
    assert without == {"safeguarding"}


def test_justice_identifiers_go_only_to_justice_and_home_area_ld() -> None:
    for recipient_type, rule in disclosure_rules().items():
        for disclosure in rule.disclosures.values():
            systems = disclosure.resources["Patient"].identifier_systems or JUSTICE_SYSTEMS
            if recipient_type not in ("criminal-justice", "home-area-ld"):
                assert systems.isdisjoint(JUSTICE_SYSTEMS), recipient_type


def test_screen_and_contact_go_only_to_home_area_ld() -> None:
    for recipient_type, rule in disclosure_rules().items():
        for disclosure in rule.disclosures.values():
            gets = {"QuestionnaireResponse", "Encounter"} & set(disclosure.resources)
            if recipient_type == "home-area-ld":
                assert gets == {"QuestionnaireResponse", "Encounter"}
            else:
                assert gets == set(), recipient_type


def test_limited_criminal_justice_is_narrower_than_agreed() -> None:
    rule = disclosure_rules()["criminal-justice"]
    limited, agreed = rule.for_decision("limited"), rule.for_decision("agreed")
    assert limited is not None and agreed is not None
    assert limited.findings < agreed.findings
    assert limited.resources["Patient"].elements < agreed.resources["Patient"].elements


def test_the_rules_file_is_described() -> None:
    document = json.loads((codes.mappings_dir() / "disclosure-rules.json").read_text())
    assert document["description"]
    assert all(rule["description"] for rule in document["recipient_types"].values())
