"""The justice report's rules and wording: data that holds together, and scopes kept apart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from adapter.documents import Bullets, KeyValues, Letterhead, Paragraph
from adapter.exchange.disclosure import minimise, rule_for
from adapter.mapping import codes
from adapter.mapping.justice_report import (
    JusticeReport,
    adjustments_for,
    person_rows,
    report_document,
)

ROOT = Path(__file__).resolve().parents[2]
PATIENT = json.loads((ROOT / "conformance/examples/Patient-ld-patient-example.json").read_text())
ADJUSTMENTS = json.loads((ROOT / "mappings/justice-adjustments.json").read_text())
# Pathways that would tell a criminal justice agency what no justice disclosure allows.
NEVER_LISTED = {"adult-safeguarding", "child-safeguarding", "financial-advice", "criminal-justice"}


def _disclosure(name: str):  # type: ignore[no-untyped-def]
    return rule_for("criminal-justice").disclosures[name]


def test_adjustments_are_keyed_by_vulnerability_codes_and_have_a_source() -> None:
    assert set(ADJUSTMENTS["adjustments"]) <= set(codes.codes("ld-vulnerability"))
    assert "PACE Code C" in ADJUSTMENTS["source"]


def test_every_criminal_justice_disclosure_has_a_report_rule_within_its_pathways() -> None:
    pathways = set(codes.codes("ld-onward-referral"))
    standard, limited = _disclosure("standard").report, _disclosure("limited").report
    assert standard is not None and limited is not None
    assert standard.support_pathways <= pathways
    assert limited.support_pathways <= standard.support_pathways
    assert not (standard.support_pathways & NEVER_LISTED)
    assert (standard.outcomes, limited.outcomes) == (True, False)


def test_adjustments_come_once_each_in_the_order_of_the_findings() -> None:
    found = adjustments_for(["learning-disability", "communication-needs", "veteran"])
    assert found[0].startswith("Explain things in plain words")
    assert len(found) == len(set(found))
    assert set(found) == set(ADJUSTMENTS["adjustments"]["learning-disability"]) | set(
        ADJUSTMENTS["adjustments"]["communication-needs"]
    )


def test_limited_identity_is_name_birth_date_and_justice_identifiers_only() -> None:
    limited = person_rows(minimise(PATIENT, _disclosure("limited")) or {})
    assert [label for label, _ in limited] == ["Name", "Date of birth", "Custody record number"]
    standard = dict(person_rows(minimise(PATIENT, _disclosure("standard")) or {}))
    assert "Address" in standard and "Gender" in standard
    for rows in (limited, tuple(standard.items())):
        assert all("9990012342" not in value for _, value in rows)


def test_the_document_says_none_rather_than_leaving_a_section_empty() -> None:
    report = JusticeReport(
        referral_id="r-1",
        patient="Patient/p",
        service_request="ServiceRequest/s",
        consent="Consent/c",
        disclosure="limited",
        scope_summary="Limited.",
        consent_recorded_at=datetime(2025, 3, 14, 10, 0, tzinfo=UTC),
        recipient=None,
        letterhead=Letterhead("An L&D team", contact=("Phone: 01743 210080",)),
        author=None,
        person={"resourceType": "Patient", "birthDate": "1990-05-01"},
        referred_on=date(2025, 3, 14),
        seen_at="Telford police custody suite",
        needs=(),
        support=(),
        produced_at=datetime(2025, 3, 15, 9, 0, tzinfo=UTC),
    )
    document = report_document(report)
    sections = {s.heading: s.blocks for s in document.sections}
    assert sections["Needs identified"] == (Paragraph("None within scope."),)
    assert sections["Suggested adjustments"] == (Paragraph("None suggested."),)
    assert isinstance(sections["The person"][0], KeyValues)
    assert ("Prepared for", "Not named") in sections["About this report"][0].rows  # type: ignore[union-attr]
    assert not any(isinstance(b, Bullets) for blocks in sections.values() for b in blocks)
    assert "Phone: 01743 210080" in sections["Contact"][0].text  # type: ignore[union-attr]
