"""A justice report: its content (already cut to the consent's scope) as a Document and a record.

Pure functions. What may be said is decided before this (adapter.services.justice_reports, with
the disclosure rules); this only words it: the person's rows from a minimised Patient, the
suggested adjustments from mappings/justice-adjustments.json, and the DocumentReference that
records what was given to whom.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from adapter.directory import SERVICE_TIME_ZONE
from adapter.documents import Bullets, Document, KeyValues, Letterhead, Paragraph, Section
from adapter.mapping import codes

JUSTICE_AGENCY = "ld-justice-agency"
LOCAL_IDENTIFIER = "ld-local-identifier-type"


@dataclass(frozen=True)
class SupportArranged:
    """One onward referral as the report tells it."""

    pathway: str  # ld-onward-referral code
    partner: str  # the partner service's name
    made_on: date
    outcome: str | None = None  # the latest answer's code, when shown
    outcome_on: date | None = None
    # A partner's answer is an ld-referral-outcome; a GP practice's ITK3 ack an ld-delivery-status.
    outcome_codes: str = "ld-referral-outcome"


@dataclass(frozen=True)
class JusticeReport:
    """Everything a justice report says, and what it relied on; nothing outside the consent."""

    referral_id: str
    patient: str  # Patient/<id>
    service_request: str  # ServiceRequest/<id>
    consent: str  # Consent/<id>: the share-criminal-justice decision relied on
    disclosure: str  # the disclosure level: standard | limited
    scope_summary: str
    consent_recorded_at: datetime
    recipient: str | None  # ld-justice-agency code
    letterhead: Letterhead
    author: str | None  # Organization/<id> providing the L&D service
    person: dict  # the Patient, minimised to the disclosure
    referred_on: date
    seen_at: str  # the custody suite or court, by name
    needs: tuple[str, ...]  # ld-vulnerability codes in scope
    support: tuple[SupportArranged, ...]
    produced_at: datetime
    assessed_by: str | None = None  # the L&D practitioner of the latest assessment, and role


@dataclass(frozen=True)
class Rendition:
    """The report rendered: bytes and media type."""

    body: bytes
    content_type: str  # application/pdf or text/html; charset=utf-8
    filename: str


@cache
def _adjustments() -> dict[str, tuple[str, ...]]:
    path = codes.mappings_dir() / "justice-adjustments.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    return {finding: tuple(items) for finding, items in document["adjustments"].items()}


def adjustments_for(findings: Iterable[str]) -> tuple[str, ...]:
    """The adjustments suggested for these findings, each once, in the findings' order."""
    table = _adjustments()
    return tuple(dict.fromkeys(a for finding in findings for a in table.get(finding, ())))


def report_document(report: JusticeReport) -> Document:
    """The report as a Document for render_pdf / render_html."""
    recipient = codes.display(JUSTICE_AGENCY, report.recipient) if report.recipient else None
    adjustments = adjustments_for(report.needs)
    return Document(
        letterhead=report.letterhead,
        title="Liaison and Diversion report",
        subtitle=f"For: {recipient or 'a criminal justice agency'}. "
        f"Produced {_long_datetime(report.produced_at)}.",
        sections=(
            Section("About this report", (KeyValues(_about_rows(report, recipient)),)),
            Section("The person", (KeyValues(person_rows(report.person)),)),
            Section("Needs identified", (_list_or(_needs(report.needs), "None within scope."),)),
            Section("Support arranged", (_list_or(_support(report), "None within scope."),)),
            Section("Suggested adjustments", (_list_or(adjustments, "None suggested."),)),
            Section("Contact", (Paragraph(_contact(report.letterhead)),)),
        ),
    )


def _about_rows(report: JusticeReport, recipient: str | None) -> tuple[tuple[str, str], ...]:
    assessed = (("Assessed by", report.assessed_by),) if report.assessed_by else ()
    return (
        ("Prepared for", recipient or "Not named"),
        ("Referred to L&D", f"{_long_date(report.referred_on)}, {report.seen_at}"),
        *assessed,
        ("Shared with consent", report.scope_summary),
        ("Consent recorded", _long_date(report.consent_recorded_at.date())),
    )


def person_rows(patient: dict) -> tuple[tuple[str, str], ...]:
    """Label and value rows for what a minimised Patient still holds."""
    rows: list[tuple[str, str]] = []
    name = _name(patient.get("name", []))
    if name:
        rows.append(("Name", name))
    if patient.get("birthDate"):
        rows.append(("Date of birth", _long_date(date.fromisoformat(patient["birthDate"]))))
    if patient.get("gender"):
        rows.append(("Gender", codes.display("administrative-gender", patient["gender"])))
    for address in patient.get("address", [])[:1]:
        parts = [*address.get("line", []), address.get("city"), address.get("postalCode")]
        rows.append(("Address", ", ".join(p for p in parts if p)))
    for identifier in patient.get("identifier", []):
        kind = codes.code_with_property(LOCAL_IDENTIFIER, "identifier-system", identifier["system"])
        label = codes.display(LOCAL_IDENTIFIER, kind) if kind else "Identifier"
        rows.append((label, str(identifier.get("value", ""))))
    return tuple(rows)


def _name(names: list[dict]) -> str:
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    return " ".join([*chosen.get("given", []), chosen.get("family", "")]).strip()


def _needs(findings: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(codes.display("ld-vulnerability", finding) for finding in findings)


def _support(report: JusticeReport) -> tuple[str, ...]:
    lines = []
    for item in report.support:
        line = (
            f"{codes.display('ld-onward-referral', item.pathway)} ({item.partner}): "
            f"referral made {_long_date(item.made_on)}"
        )
        if item.outcome:
            line += f"; latest: {codes.display(item.outcome_codes, item.outcome)}"
            line += f" ({_long_date(item.outcome_on)})" if item.outcome_on else ""
        lines.append(line)
    return tuple(lines)


def _list_or(items: tuple[str, ...], none: str) -> Bullets | Paragraph:
    return Bullets(items) if items else Paragraph(none)


def _contact(head: Letterhead) -> str:
    ways = "; ".join(head.contact) if head.contact else "through the trust's switchboard"
    return f"Questions about this report: {head.service_name}, {ways}."


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _long_datetime(value: datetime) -> str:
    local = value.astimezone(ZoneInfo(SERVICE_TIME_ZONE))
    return f"{_long_date(local.date())}, {local:%H:%M}"


def justice_report_reference(report: JusticeReport, rendition: Rendition, doc_id: str) -> dict:
    """The DocumentReference recording the report given: to whom, on what consent, the file."""
    reference: dict = {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "meta": {"profile": [codes.url("justice-report.profile")]},
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [_snomed_type(), codes.coding("ld-document-type", "justice-report")]},
        "subject": {"reference": report.patient},
        "date": report.produced_at.isoformat(),
        "description": f"L&D justice report ({report.disclosure} disclosure)",
        "securityLabel": [
            {
                "coding": [
                    {
                        "system": codes.url("justice-report.confidentiality-system"),
                        "code": codes.url("justice-report.confidentiality"),
                    }
                ]
            }
        ],
        "content": [{"attachment": _attachment(report, rendition)}],
        "context": {
            "related": [{"reference": report.service_request}, {"reference": report.consent}]
        },
    }
    if report.recipient:
        reference["category"] = [{"coding": [codes.coding(JUSTICE_AGENCY, report.recipient)]}]
    if report.author:
        reference["author"] = [{"reference": report.author}]
        reference["custodian"] = {"reference": report.author}
    return reference


def _snomed_type() -> dict:
    """UK Core's DocumentReference.type binding is extensible: its SNOMED CT code comes first."""
    return {
        "system": codes.url("justice-report.type-system"),
        "code": codes.url("justice-report.type"),
        "display": codes.url("justice-report.type-display"),
    }


def _attachment(report: JusticeReport, rendition: Rendition) -> dict:
    # FHIR's Attachment.hash is SHA-1 by definition; it identifies the file, it secures nothing.
    digest = hashlib.sha1(rendition.body, usedforsecurity=False).digest()
    return {
        "contentType": rendition.content_type,
        "language": codes.url("justice-report.language"),
        "data": base64.b64encode(rendition.body).decode("ascii"),
        "size": len(rendition.body),
        "hash": base64.b64encode(digest).decode("ascii"),
        "title": rendition.filename,
        "creation": report.produced_at.isoformat(),
    }
