"""Justice reports: what L&D may tell police, CPS, a court, probation or a YOT, and its record.

The consent check and the disclosure are adapter.exchange's, as for a message to a criminal
justice partner: the person's current share-criminal-justice decision (agreed → standard,
limited → limited; recorded while lacking capacity does not count), else 422 naming it. Each
report produced is kept as a DocumentReference (with the file), so what was disclosed, when and
to whom can be shown later; its creation is audited with the consent relied on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from adapter.directory import service_at_site
from adapter.documents import Letterhead, letterhead_for_service, render_html, render_pdf
from adapter.errors import Unprocessable
from adapter.exchange.consent_check import ConsentBasis, check_consent
from adapter.exchange.disclosure import Disclosure, ReportRule, minimise, rule_for
from adapter.mapping import codes
from adapter.mapping.consent import decision_from_consent
from adapter.mapping.justice_report import (
    JusticeReport,
    Rendition,
    SupportArranged,
    justice_report_reference,
    report_document,
)
from adapter.native.referral_schema import load_referral
from adapter.services.common import bare_id, ensure_conformant, new_id
from adapter.services.onward_messages import sender
from adapter.services.referrals import existing_referral
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork

CRIMINAL_JUSTICE = "criminal-justice"
PDF = "application/pdf"
HTML = "text/html; charset=utf-8"
# An onward referral's outcomes: partners' answers (BaRS), and GP practices' ITK3 acks
# (adapter.services.gp_acks), which say how far the document got, not what the practice decided.
OUTCOME_CODE_LISTS = ("ld-referral-outcome", "ld-delivery-status")


def prepare_justice_report(
    store: Store,
    settings: Settings,
    directory: list[dict],
    referral_id: str,
    recipient: str | None,
) -> JusticeReport:
    """The report's content within the person's consent; NotFound, or 422 without the consent."""
    with store.unit_of_work(read_only=True) as uow:
        referral = existing_referral(uow, referral_id)
        consents = [
            consent
            for reference in referral.resource_ids.get("consents", [])
            if (consent := uow.resources.read("Consent", bare_id(reference) or "")) is not None
        ]
        basis = _consented(consents)
        disclosure = basis.disclosure
        report_rule = _report_rule(disclosure)
        relied = next(c for c in consents if c["id"] == basis.consent_ids[0])
        patient_id = bare_id(referral.resource_ids["patient"]) or ""
        patient = uow.resources.read("Patient", patient_id) or {"resourceType": "Patient"}
        content = load_referral(referral.native)
        letterhead, author = _letterhead(settings, directory, referral.site)
        return JusticeReport(
            referral_id=referral.id,
            patient=f"Patient/{patient_id}",
            service_request=referral.resource_ids["service_request"],
            consent=f"Consent/{relied['id']}",
            disclosure=disclosure.name,
            scope_summary=report_rule.summary,
            consent_recorded_at=decision_from_consent(relied, 0).recorded_at,
            recipient=recipient,
            letterhead=letterhead,
            author=author,
            person=minimise(patient, disclosure) or {},
            referred_on=content.received_at.date(),
            seen_at=_site_name(directory, referral.site),
            needs=disclosure.allowed_findings(content.concerns),
            support=_support(uow, referral.id, report_rule),
            produced_at=datetime.now(UTC),
            assessed_by=_assessed_by(uow, referral.id),
        )


def _assessed_by(uow: UnitOfWork, referral_id: str) -> str | None:
    """The practitioner of the latest assessment, with their role: the report's author."""
    for record in reversed(uow.assessments.for_referral(referral_id)):
        practitioner = record.native.get("practitioner") or {}
        name = practitioner.get("name")
        if isinstance(name, str) and name:
            role = practitioner.get("role_text")
            return f"{name}, {role}" if isinstance(role, str) and role else name
    return None


def render_justice_report(report: JusticeReport, media_type: str) -> Rendition:
    """The report as PDF (application/pdf) or as an HTML page (text/html)."""
    document = report_document(report)
    name = f"justice-report-{report.referral_id}"
    if media_type == HTML:
        return Rendition(render_html(document).encode("utf-8"), HTML, f"{name}.html")
    return Rendition(render_pdf(document), PDF, f"{name}.pdf")


def record_justice_report(store: Store, report: JusticeReport, rendition: Rendition) -> dict:
    """Keep the report given as a DocumentReference (validated); the stored resource."""
    reference = justice_report_reference(report, rendition, new_id())
    ensure_conformant([reference])
    with store.unit_of_work() as uow:
        return uow.resources.create_many([reference])[0]


def _consented(consents: list[dict]) -> ConsentBasis:
    """The criminal-justice consent relied on; 422 naming it (the referral's `consents`)."""
    try:
        return check_consent(rule_for(CRIMINAL_JUSTICE), consents)
    except Unprocessable as refused:
        raise Unprocessable(
            [replace(issue, expression=("consents",)) for issue in refused.issues]
        ) from None


def _report_rule(disclosure: Disclosure) -> ReportRule:
    if disclosure.report is None:  # a rules file without it is a deployment error, not input
        raise LookupError(f"disclosure-rules.json: {disclosure.name} has no report rule")
    return disclosure.report


def _support(uow: UnitOfWork, referral_id: str, rule: ReportRule) -> tuple[SupportArranged, ...]:
    """The onward referrals the rule lets the report name (never cancelled ones)."""
    found = []
    for record in uow.onward_referrals.for_referral(referral_id):
        if record.status == "cancelled" or record.pathway not in rule.support_pathways:
            continue
        service = uow.resources.read("HealthcareService", record.partner_service) or {}
        latest = _latest(record.outcomes) if rule.outcomes else None
        found.append(
            SupportArranged(
                pathway=record.pathway,
                partner=service.get("name") or record.partner_service,
                made_on=record.created_at.date(),
                outcome=latest[0]["status"] if latest else None,
                outcome_on=datetime.fromisoformat(latest[0]["at"]).date() if latest else None,
                outcome_codes=latest[1] if latest else "ld-referral-outcome",
            )
        )
    return tuple(found)


def _latest(outcomes: list[dict]) -> tuple[dict, str] | None:
    """The newest outcome the report can name, with the code list its status is from."""
    for outcome in reversed(outcomes):
        for code_list in OUTCOME_CODE_LISTS:
            if codes.has(code_list, outcome.get("status")):
                return outcome, code_list
    return None


def _letterhead(
    settings: Settings, directory: list[dict], site: str
) -> tuple[Letterhead, str | None]:
    """The L&D service at the referral's site (else our trust) and the Organization behind it."""
    service = service_at_site(directory, site)
    if service is not None:
        return (
            letterhead_for_service(directory, service["id"]),
            (service.get("providedBy") or {}).get("reference"),
        )
    organization = sender(settings, directory).organization
    return Letterhead(service_name=organization.get("name", "")), (
        f"Organization/{organization['id']}"
    )


def _site_name(directory: list[dict], site: str) -> str:
    for resource in directory:
        if resource.get("resourceType") == "Location" and resource.get("id") == site:
            return str(resource.get("name") or site)
    return site
