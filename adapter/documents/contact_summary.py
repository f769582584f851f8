"""The L&D contact summary a registered GP practice files: what the GP's disclosure rule allows.

Built from resources already cut to the GP's disclosure rule (the Patient and the onward
ServiceRequest as `adapter.exchange.disclosure.minimise` leaves them), so the PDF can say no
more than the rule lets a GP see: no custody, PNC or court numbers, no offence details, only the
findings the health disclosure lists. The place of contact is the L&D service, not the custody
suite or court (the rule keeps those from health partners).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from adapter.documents import Bullets, Document, KeyValues, Letterhead, Paragraph, Section
from adapter.mapping import codes

VULNERABILITY = "ld-vulnerability"
TITLE = "Liaison and Diversion contact summary"
_GENDER = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Not known"}


@dataclass(frozen=True)
class ContactSummary:
    """What the summary says, each part already within the GP's disclosure rule."""

    letterhead: Letterhead  # our service's name and contact details, from the directory
    patient: dict  # the R4 Patient cut to the rule
    service_request: dict  # the onward ServiceRequest cut to the rule (findings, reason, note)
    contact_date: date  # when L&D saw the person
    practitioner: str  # who saw them and refers: "name (role)"


def contact_summary_document(summary: ContactSummary) -> Document:
    """The summary as a document for `adapter.documents.render_pdf`."""
    head = summary.letterhead
    request = summary.service_request
    sections = [
        Section("Person", (KeyValues(_person_rows(summary.patient)),)),
        Section(
            "Contact",
            (
                KeyValues(
                    (
                        ("Date of contact", _long_date(summary.contact_date)),
                        ("Seen by", head.service_name),
                        ("Practitioner", summary.practitioner),
                    )
                ),
            ),
        ),
        Section("Needs identified", (_findings(request),)),
    ]
    reason = [c["text"] for c in request.get("reasonCode", ()) if "coding" not in c]
    if reason:
        sections.append(Section("Reason for this summary", tuple(Paragraph(r) for r in reason)))
    notes = [n["text"] for n in request.get("note", ()) if isinstance(n.get("text"), str)]
    if notes:
        sections.append(Section("Support arranged", tuple(Paragraph(n) for n in notes)))
    contact = head.contact or ("See the letterhead.",)
    sections.append(
        Section(
            "Contact us",
            (
                Paragraph(f"Please contact {head.service_name} about this summary."),
                Bullets(tuple(contact)),
            ),
        )
    )
    return Document(
        letterhead=head,
        title=TITLE,
        subtitle="For the registered GP practice, to file in the person's record",
        sections=tuple(sections),
    )


def _person_rows(patient: dict) -> tuple[tuple[str, str], ...]:
    rows = [("Name", _name(patient))]
    if isinstance(patient.get("birthDate"), str):
        rows.append(("Date of birth", _long_date(date.fromisoformat(patient["birthDate"]))))
    nhs = codes.url("identifier.nhs-number")
    for identifier in patient.get("identifier", ()):
        if identifier.get("system") == nhs:
            number = str(identifier.get("value", ""))
            rows.append(("NHS number", f"{number[:3]} {number[3:6]} {number[6:]}"))
    if patient.get("gender") in _GENDER:
        rows.append(("Gender", _GENDER[patient["gender"]]))
    for address in patient.get("address", ())[:1]:
        parts = [*address.get("line", ()), address.get("city"), address.get("postalCode")]
        rows.append(("Address", ", ".join(p for p in parts if p)))
    return tuple(rows)


def _name(patient: dict) -> str:
    for name in patient.get("name", ()):
        parts = [*name.get("given", ()), name.get("family")]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return "Not recorded"


def _findings(request: dict) -> Bullets | Paragraph:
    found = [
        codes.display(VULNERABILITY, code)
        for concept in request.get("reasonCode", ())
        if (code := codes.code_from(VULNERABILITY, concept.get("coding", []))) is not None
    ]
    if not found:
        return Paragraph("None that we may share with you.")
    return Bullets(tuple(found))


def _long_date(value: date | datetime) -> str:
    return f"{value.day} {value:%B %Y}"
