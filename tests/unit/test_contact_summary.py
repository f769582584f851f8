"""The L&D contact summary PDF a GP files: what it must say, and what the rule keeps out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from adapter.directory import directory_resources
from adapter.documents import letterhead_for_service, render_pdf
from adapter.documents.contact_summary import ContactSummary, contact_summary_document
from adapter.domain import OnwardReferral, OnwardReferralIds
from adapter.exchange.disclosure import Disclosure, ResourceRule, minimise, rule_for
from adapter.mapping.onward_referral import service_request_from_onward_referral
from tests.support.pdf_text import pdf_text

ROOT = Path(__file__).resolve().parents[2]
STORED = json.loads(
    (ROOT / "fixtures/fhir/referrals/adult-custody-telford.bundle.json").read_text(encoding="utf-8")
)
DIRECTORY = directory_resources()
SERVICE = "mpft-ld-shropshire-telford"
ONWARD = OnwardReferral(
    pathway="gp",
    partner_service="example-medical-practice-gp",
    authored_on=datetime(2025, 3, 14, 12, 30, tzinfo=UTC),
    referred_by="Alex Morgan",
    referred_by_role="L&D practitioner (RMN)",
    reason="Please review his low mood and drinking.",
    note="Booked with the community alcohol team on 20 March.",
)
CONCERNS = ("mental-health", "alcohol", "self-harm-suicide-risk")
IDS = OnwardReferralIds("onward-1", "sr-1", "task-1", "patient-1", "referral-1", ())


def _stored(resource_type: str) -> dict:
    return next(
        e["resource"] for e in STORED["entry"] if e["resource"]["resourceType"] == resource_type
    )


def _summary_text(disclosure: Disclosure) -> str:
    return pdf_text(render_pdf(contact_summary_document(_summary_inputs(disclosure))))


def _summary_inputs(disclosure: Disclosure) -> ContactSummary:
    """The summary of the Telford referral, cut to `disclosure` (also the benchmark's input)."""
    organization = next(r for r in DIRECTORY if r["id"] == "mpft")
    request = service_request_from_onward_referral(
        ONWARD,
        IDS,
        findings=disclosure.allowed_findings(
            ("mental-health", "alcohol", "self-harm-suicide-risk")
        ),
        organization=organization,
    )
    return ContactSummary(
        letterhead=letterhead_for_service(DIRECTORY, SERVICE),
        patient=minimise(_stored("Patient"), disclosure) or {},
        service_request=minimise(request, disclosure) or {},
        contact_date=date(2025, 3, 14),
        practitioner="Alex Morgan (L&D practitioner (RMN))",
    )


def _gp() -> Disclosure:
    return rule_for("health").disclosures["standard"]


def test_the_summary_says_who_we_are_who_was_seen_when_why_and_how_to_reach_us() -> None:
    text = _summary_text(_gp())
    service = next(r for r in DIRECTORY if r["id"] == SERVICE)
    for expected in (
        "Liaison and Diversion contact summary",
        service["name"],
        "Phone:",
        "Daniel James Hartley",
        "2 June 1988",
        "999 001 2342",
        "14 March 2025",
        "Alex Morgan (L&D practitioner (RMN))",
        "Mental health",
        "Alcohol misuse",
        "Please review his low mood and drinking.",
        "Booked with the community alcohol team on 20 March.",
    ):
        assert expected in text, expected


def test_the_summary_never_names_custody_pnc_court_or_offence_details() -> None:
    text = _summary_text(_gp())
    stored = json.dumps(STORED)
    assert "22TE/4417/25" in stored  # the custody record number is held …
    for withheld in ("22TE/4417/25", "Custody", "custody", "West Mercia", "Sgt Priya Kaur"):
        assert withheld not in text, withheld  # … and never reaches the GP


def test_the_summary_follows_the_rule_when_the_rule_shares_less() -> None:
    gp = _gp()
    patient_rule = gp.resources["Patient"]
    narrower = replace(
        gp,
        findings=gp.findings - {"alcohol"},
        resources={
            **gp.resources,
            "Patient": ResourceRule(
                patient_rule.elements - {"address"},
                patient_rule.extensions,
                patient_rule.identifier_systems,
            ),
        },
    )
    text = _summary_text(narrower)
    assert "Mental health" in text
    assert "Alcohol misuse" not in text
    assert "14 Wrekin View" not in text and "TF1 2AB" not in text
    assert "14 Wrekin View" in _summary_text(gp)
